#!/usr/bin/env bash
# crashtest.sh — the crash-safety promise, by hand: send from many
# concurrent curl clients, kill -9 `salvo serve` in the middle of the load,
# restart it on the same data, and check that every message that got a 200
# reaches the MX (lost must be 0). Duplicates are counted: they are only
# expected for deliveries whose SMTP transaction completed before the kill
# but whose outcome was not yet written. Outcome writes are pipelined with
# the next transaction (a connection goes on while its previous outcome
# commits), so per delivery connection that is the transaction in progress
# plus the one whose outcome was in flight: at most 2 x
# SALVO_DELIVERY_WORKERS copies (each copy has one recipient). An earlier
# run saw 57 with 32 workers, within that bound; TestCrashSafety checks
# the same bound on every CI run.
#
# Usage: scripts/crashtest.sh            (embedded SQLite store)
#        SALVO_DATABASE_URL=postgres://… SALVO_GLOBAL_DATABASE_URL=postgres://… scripts/crashtest.sh
# Knobs: CLIENTS (32), ACCEPT_BEFORE_KILL (300), HTTP_PORT (18080),
#        MX_PORT (18025), WORKERS (16), KEEP=1 keeps the work folder.
# Needs: go, curl, python3 (for a tiny SMTP sink that stands in for the MX).
set -euo pipefail

CLIENTS=${CLIENTS:-32}
ACCEPT_BEFORE_KILL=${ACCEPT_BEFORE_KILL:-300}
HTTP_PORT=${HTTP_PORT:-18080}
MX_PORT=${MX_PORT:-18025}
WORKERS=${WORKERS:-16}
DOMAIN=mg.example.com
KEY=key-crashtest-$RANDOM$RANDOM
BASE=http://127.0.0.1:$HTTP_PORT

WORK=$(mktemp -d "${TMPDIR:-/tmp}/salvo-crashtest.XXXXXX")
mkdir -p "$WORK/spool" "$WORK/accepted" "$WORK/data"
SALVO_PID= MX_PID=
CLIENT_PIDS=()
cleanup() {
	for p in "${CLIENT_PIDS[@]}" $SALVO_PID $MX_PID; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ ${KEEP:-} == 1 ]]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

log "building salvo"
(cd "$(dirname "$0")/.." && go build -o "$WORK/salvo" ./cmd/salvo)

# The MX: accepts everything, stores each message as a file before it
# answers 250 to the final dot.
cat >"$WORK/mx.py" <<'PY'
import os, socketserver, sys, uuid
spool = sys.argv[2]
class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode()); self.wfile.flush()
    def handle(self):
        try:
            self.session()
        except (ConnectionError, BrokenPipeError):
            pass  # the sender was killed mid-session
    def session(self):
        self.reply("220 crashtest-mx ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.reply("250 crashtest-mx")
            elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif cmd == "DATA":
                self.reply("354 go ahead")
                data = []
                while True:
                    l = self.rfile.readline()
                    if not l:
                        return  # cut mid-message: nothing stored, nothing acknowledged
                    if l in (b".\r\n", b".\n"):
                        break
                    data.append(l[1:] if l.startswith(b"..") else l)
                name = os.path.join(spool, uuid.uuid4().hex)
                with open(name + ".tmp", "wb") as f:
                    f.writelines(data)
                os.rename(name + ".tmp", name + ".eml")
                self.reply("250 OK stored")
            elif cmd == "QUIT":
                self.reply("221 bye"); return
            else:
                self.reply("502 not implemented")
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256  # the default 5 refuses a burst of deliveries
Server(("127.0.0.1", int(sys.argv[1])), Session).serve_forever()
PY
python3 "$WORK/mx.py" "$MX_PORT" "$WORK/spool" &
MX_PID=$!
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$MX_PORT") 2>/dev/null; then break; fi
	sleep 0.1
done

start_salvo() {
	SALVO_DATA_DIR="$WORK/data" SALVO_HTTP_ADDR="127.0.0.1:$HTTP_PORT" SALVO_API_KEY="$KEY" \
		SALVO_SMARTHOST="127.0.0.1:$MX_PORT" SALVO_DKIM_KEY_BITS=1024 SALVO_DELIVERY_WORKERS="$WORKERS" \
		SALVO_LEASE=2s SALVO_SMTP_ADDR=off SALVO_SMTPS_ADDR=off SALVO_MX_ADDR=off "$WORK/salvo" serve >>"$WORK/salvo.log" 2>&1 &
	SALVO_PID=$!
	for _ in $(seq 300); do
		if curl -fs "$BASE/healthz" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "salvo did not start; log:" >&2
	cat "$WORK/salvo.log" >&2
	exit 1
}

accepted_count() { cat "$WORK"/accepted/* 2>/dev/null | wc -l; }

client() {
	local c=$1 i=0 subject code
	while :; do
		subject=$(printf 'crash-%02d-%05d' "$c" "$i")
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --user "api:$KEY" \
			"$BASE/v3/$DOMAIN/messages" -F from="sender@$DOMAIN" -F to="u$c.$i@d$((i % 4)).example" \
			-F subject="$subject" -F text="body of $subject" || true)
		if [[ $code == 200 ]]; then echo "$subject" >>"$WORK/accepted/$c"; fi
		i=$((i + 1))
	done
}

log "starting salvo (work folder $WORK)"
start_salvo
curl -fs --user "api:$KEY" "$BASE/v3/domains" -F name="$DOMAIN" >/dev/null

log "sending from $CLIENTS clients"
for c in $(seq 1 "$CLIENTS"); do
	client "$c" &
	CLIENT_PIDS+=($!)
done
while (($(accepted_count) < ACCEPT_BEFORE_KILL)); do sleep 0.05; done
kill -9 "$SALVO_PID"
wait "$SALVO_PID" 2>/dev/null || true
at_kill=$(ls "$WORK/spool" | grep -c '\.eml$' || true)
for p in "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${CLIENT_PIDS[@]}" 2>/dev/null || true
CLIENT_PIDS=()
accepted=$(accepted_count)
log "killed salvo with SIGKILL: $accepted accepted, $at_kill delivered at that moment"

log "restarting on the same data"
start_salvo
delivered_subjects() { grep -h '^Subject: crash-' "$WORK"/spool/*.eml 2>/dev/null | sed 's/^Subject: //; s/\r$//'; }
lost=$accepted
for _ in $(seq 600); do
	lost=$(comm -23 <(cat "$WORK"/accepted/* | sort -u) <(delivered_subjects | sort -u) | wc -l)
	((lost == 0)) && break
	sleep 0.1
done
sleep 1 # let a late duplicate arrive before counting
kill "$SALVO_PID"
wait "$SALVO_PID" 2>/dev/null || true
SALVO_PID=

dups=$(delivered_subjects | sort | uniq -d -c | awk '{n += $1 - 1} END {print n + 0}')
log "accepted $accepted, lost $lost, duplicates $dups (expected at most $((2 * WORKERS)))"
delivered_subjects | sort | uniq -d -c | sed 's/^/  duplicate: /'
if ((lost > 0)); then
	echo "FAIL: $lost accepted messages never reached the MX:" >&2
	comm -23 <(cat "$WORK"/accepted/* | sort -u) <(delivered_subjects | sort -u) | head -20 >&2
	KEEP=1
	exit 1
fi
if ((dups > 2 * WORKERS)); then
	echo "FAIL: more duplicates than twice the delivery connections" >&2
	exit 1
fi
echo "PASS"
