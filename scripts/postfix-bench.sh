#!/bin/sh
# postfix-bench.sh: set up Postfix 3.7 (Debian's package) on this machine as
# the comparison for the SMTP benchmarks of docs/performance.md, and run the
# same loads against it and against Salvo.
#
#   sudo scripts/postfix-bench.sh setup    # install and configure Postfix
#   scripts/postfix-bench.sh run           # the figures (Salvo and Postfix)
#   sudo scripts/postfix-bench.sh stop     # stop Postfix afterwards
#
# Postfix listens on 127.0.0.1:2525 as an MX for bench.example.com and on
# 127.0.0.1:2587 as a submission server (STARTTLS required, SASL PLAIN/LOGIN
# from a sasldb, bench@bench.example.com / bench-password). Both deliver to
# the discard transport, so what is measured is the durable accept (Postfix
# fsyncs its queue file before 250) and its queue manager, as Salvo's figure
# is its durable accept and its own processing.
set -eu

salvo=${SALVO:-/tmp/salvo}
d=${DURATION:-15s}

setup() {
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y postfix sasl2-bin libsasl2-modules ssl-cert # postfix brings smtp-source
	postconf -e "myhostname = postfix-bench.localdomain" "inet_interfaces = loopback-only" \
		"inet_protocols = ipv4" "mydestination =" "relay_domains = bench.example.com" \
		"transport_maps = inline:{ bench.example.com=discard:, dest.example.net=discard: }" \
		"mynetworks = 127.0.0.0/8" "smtp_dns_support_level = disabled" "smtpd_peername_lookup = no" \
		"smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem" \
		"smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key" \
		"smtpd_sasl_path = smtpd" "smtpd_sasl_type = cyrus" "cyrus_sasl_config_path = /etc/postfix/sasl" \
		"maillog_file = /var/log/postfix.log"
	if ! grep -q '^127.0.0.1:2525' /etc/postfix/master.cf; then
		cat >>/etc/postfix/master.cf <<'EOF'
127.0.0.1:2525 inet n - n - - smtpd
127.0.0.1:2587 inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
EOF
	fi
	cat >/etc/postfix/sasl/smtpd.conf <<'EOF'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
EOF
	echo bench-password | saslpasswd2 -p -c -u bench.example.com bench
	chown postfix /etc/sasldb2
	chmod 640 /etc/sasldb2
	postfix check
	postfix start || postfix reload
}

run() {
	echo "== inbound MX, 20 sessions, 1 message per connection"
	"$salvo" bench -mode mx -c 20 -d "$d" | head -1
	"$salvo" bench -mode mx -c 20 -d "$d" -target 127.0.0.1:2525 -to user@bench.example.com | head -1
	echo "== inbound MX, 20 sessions, 10 messages per connection"
	"$salvo" bench -mode mx -c 20 -per-conn 10 -d "$d" | head -1
	"$salvo" bench -mode mx -c 20 -per-conn 10 -d "$d" -target 127.0.0.1:2525 -to user@bench.example.com | head -1
	for pc in 1 10; do
		echo "== relay, 20 sessions, STARTTLS + AUTH, $pc message(s) per connection"
		"$salvo" bench -mode relay -c 20 -per-conn "$pc" -d "$d" | head -1
		"$salvo" bench -mode relay -c 20 -per-conn "$pc" -d "$d" -target 127.0.0.1:2587 -starttls \
			-login bench@bench.example.com -password bench-password -to user@dest.example.net | head -1
	done
	echo "== smtp-source (Postfix's own load generator), 20 sessions, 20,000 messages of 2 KB, Postfix"
	start=$(date +%s.%N)
	smtp-source -s 20 -m 20000 -l 2048 -f bench@bench.example.com -t user@bench.example.com 127.0.0.1:2525
	end=$(date +%s.%N)
	echo "Postfix: $(echo "20000 / ($end - $start)" | bc -l | cut -d. -f1) msgs/s"
	echo "(for Salvo under smtp-source, run salvo serve with SALVO_MX_ADDR=127.0.0.1:3525 and a domain"
	echo " bench.example.com, then: smtp-source -s 20 -m 20000 -l 2048 -f bench@bench.example.com -t user@bench.example.com 127.0.0.1:3525)"
}

case "${1:-}" in
setup) setup ;;
run) run ;;
stop) postfix stop ;;
*)
	echo "usage: $0 setup|run|stop" >&2
	exit 2
	;;
esac
