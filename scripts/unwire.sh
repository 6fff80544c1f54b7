#!/bin/sh
# unwire.sh rewrites uses of names that moved in issue 19 (the deprecated
# package internal/api/wire, and the aliases left in send, delivery and
# api) in the given Go files. Default: every Go file (tests too) that uses
# one, except internal/api/wire itself and internal/api/server.go, whose
# error writer still reads the deprecated wire.Error on purpose:
#
#   wire.BadRequest(…)              → fault.Invalidf(…)
#   wire.NotFound(…)                → fault.NotFoundf(…)
#   wire.Errorf(http.StatusX, …)    → fault.<Kind>f(…) (see the table below)
#   &wire.Error{Status: http.StatusX, → &fault.Error{Kind: fault.<Kind>,
#   *wire.Error / wire.Error        → *fault.Error / fault.Error
#   wire.<Name>                     → mgapi.<Name> (every shape, date, Params)
#   send.Meta, send.DecodeMeta, send.Personal, send.PersonalReplacer,
#   send.Replacer, send.DecodeVar   → msgmeta.Meta, msgmeta.Decode, …
#   delivery.Status, .Destination, .MessageState, .WaitingRcpt,
#   .HistoryEntry, .DestinationHealth → mgapi.QueueStatus, .QueueDestination,
#                                      .QueueMessage, .QueueWaiting,
#                                      .QueueHistory, .QueueHealth
#   api.KeyJSON                     → auth.KeyShape
#
# then fixes the import blocks and runs gofmt. What it cannot rewrite it
# lists at the end: reads of .Status or .Header of an error (use .Kind and
# .RetryAfter), Plain (the API's own concern), Errorf with a status it does
# not know. Run `go build ./... && go vet ./...` afterwards.
#
# Usage: scripts/unwire.sh [file.go …]
set -eu
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
	set -- $(grep -rlE '"github.com/salvo-email/salvo/internal/api/wire"|send\.(Meta|DecodeMeta|Personal|PersonalReplacer|Replacer|DecodeVar)\b|delivery\.(Status|Destination|MessageState|WaitingRcpt|HistoryEntry|DestinationHealth)\b|api\.KeyJSON' --include='*.go' internal cmd | grep -v -e '^internal/api/wire/' -e '^internal/api/server.go$' || true)
fi
[ $# -eq 0 ] && { echo "unwire: nothing to rewrite"; exit 0; }
python3 - "$@" <<'PY'
import re, sys

KINDS = {
    "StatusBadRequest": "Invalid", "400": "Invalid",
    "StatusUnauthorized": "Unauthorized", "401": "Unauthorized",
    "StatusForbidden": "Forbidden", "403": "Forbidden",
    "StatusNotFound": "NotFound", "404": "NotFound",
    "StatusConflict": "Conflict", "409": "Conflict",
    "StatusRequestEntityTooLarge": "TooLarge", "413": "TooLarge",
    "StatusTooManyRequests": "TooMany", "429": "TooMany",
    "StatusServiceUnavailable": "Unavailable", "503": "Unavailable",
    "StatusInternalServerError": "Internal", "500": "Internal",
}
CTOR = {"Invalid": "Invalidf", "Unauthorized": "Unauthorizedf", "Forbidden": "Forbiddenf",
        "NotFound": "NotFoundf", "Conflict": "Conflictf", "TooLarge": "TooLargef",
        "TooMany": "TooManyf", "Unavailable": "Unavailablef"}
WIRE = '"github.com/salvo-email/salvo/internal/api/wire"'
FAULT = '"github.com/salvo-email/salvo/internal/fault"'
MGAPI = '"github.com/salvo-email/salvo/internal/mgapi"'
MSGMETA = '"github.com/salvo-email/salvo/internal/msgmeta"'
AUTH = '"github.com/salvo-email/salvo/internal/auth"'
OWN = {  # imports dropped when a rewrite left them unused
    '"github.com/salvo-email/salvo/internal/send"': "send",
    '"github.com/salvo-email/salvo/internal/delivery"': "delivery",
    '"github.com/salvo-email/salvo/internal/api"': "api",
}
STATUS = r'(?:http\.(Status\w+)|(\d{3}))'

def kind(m1, m2):
    return KINDS.get(m1 or m2)

def errorf(m):
    k = kind(m.group(1), m.group(2))
    if k is None:
        return m.group(0)
    if k in CTOR:
        return "fault." + CTOR[k] + "("
    return "fault.New(fault.%s, " % k

def literal(m):
    k = kind(m.group(1), m.group(2))
    return m.group(0) if k is None else "fault.Error{Kind: fault.%s," % k

def fix_imports(src):
    uses = lambda p: re.search(r'\b%s\.' % p, src) is not None
    m = re.search(r'^import \((.*?)^\)', src, re.S | re.M)
    if not m:
        return src
    lines = m.group(1).split("\n")
    def keep(l):
        s = l.strip()
        if s == WIRE:
            return uses("wire")
        if s == '"net/http"':
            return uses("http")
        if s in OWN:
            return uses(OWN[s])
        return True
    lines = [l for l in lines if keep(l)]
    body = "\n".join(lines)
    for imp, name in ((FAULT, "fault"), (MGAPI, "mgapi"), (MSGMETA, "msgmeta"), (AUTH, "auth")):
        if uses(name) and imp not in body:
            ours = re.search(r'^\t"github\.com/salvo-email/salvo/[^"]*"\n', body, re.M)
            if ours:  # into the group of Salvo's imports (gofmt sorts it)
                body = body[:ours.start()] + "\t" + imp + "\n" + body[ours.start():]
            else:  # a group of its own
                body = body.rstrip("\n") + "\n\n\t" + imp + "\n"
    return src[:m.start(1)] + body + src[m.end(1):]

for path in sys.argv[1:]:
    src = open(path).read()
    out = src
    if not path.startswith("internal/send/"):
        out = re.sub(r'\bsend\.DecodeMeta\b', 'msgmeta.Decode', out)
        out = re.sub(r'\bsend\.(Meta|Personal|PersonalReplacer|Replacer|DecodeVar)\b', r'msgmeta.\1', out)
    if not path.startswith("internal/delivery/"):
        for old, new in (("Status", "QueueStatus"), ("Destination", "QueueDestination"), ("MessageState", "QueueMessage"),
                         ("WaitingRcpt", "QueueWaiting"), ("HistoryEntry", "QueueHistory"), ("DestinationHealth", "QueueHealth")):
            out = re.sub(r'\bdelivery\.%s\b' % old, 'mgapi.' + new, out)
    if not path.startswith("internal/api/"):
        out = re.sub(r'\bapi\.KeyJSON\(', 'auth.KeyShape(', out)
    out = re.sub(r'\bwire\.BadRequest\(', 'fault.Invalidf(', out)
    out = re.sub(r'\bwire\.NotFound\(', 'fault.NotFoundf(', out)
    out = re.sub(r'\bwire\.Errorf\(' + STATUS + r',\s*', errorf, out)
    out = re.sub(r'\bwire\.Error\{Status:\s*' + STATUS + r',', literal, out)
    out = re.sub(r'\bwire\.Error\b', 'fault.Error', out)
    out = re.sub(r'\bwire\.(?!Errorf\b|KindOf\b)([A-Z]\w*)', r'mgapi.\1', out)
    out = fix_imports(out)
    if out != src:
        open(path, "w").write(out)
        print("unwire: rewrote", path)
PY
gofmt -w "$@"
# What is left for a person.
grep -nE '\bwire\.|\b(we|e|err|fe)\.(Status|Header|Plain)\b|Header: http\.Header' "$@" || true
