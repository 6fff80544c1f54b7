package bounce

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/mail"
)

// Plain-text bounces. Older MTAs and some providers (qmail, Exim, Sendmail
// without DSN, Gmail, Yahoo) write the failure for people: a list of
// recipient addresses, each followed by the remote server's answer. The
// heuristic reads the text before the enclosed original message, pairs
// each recipient address with the first SMTP reply code (RFC 5321 §4.2)
// or enhanced status code (RFC 3463) at or after it, and classifies:
//
//   - any class-5 code or status: Failed, that recipient hard;
//   - only class-4 codes: Delayed when the text speaks of retrying, Failed
//     soft when it speaks of giving up, else nothing;
//   - no code at all, in a notice from a mailer daemon (or with a bounce
//     subject) that names the recipient: only an explicit statement counts
//     (see textRecipient); a notice that merely says something went wrong
//     is nothing (Kind None).
//
// A message that does not come from a mailer daemon and has no bounce-like
// subject must also use a bounce phrase and give a code, so an ordinary
// message quoting a "550" is not taken for a bounce.

var (
	bounceSubject   = regexp.MustCompile(`(?i)undeliver|undelivered|delivery (status|failure|failed|has failed|problem|notification|report|incomplete)|mail delivery|returned mail|failure notice|could not be delivered|non[- ]?deliver|nicht zustellbar|mail system error|not delivered|returned to sender|delayed mail|delivery delay|message delayed|warning: could not send|failed delivery|rejected|bounce`)
	bouncePhrase    = regexp.MustCompile(`(?i)undeliver|could(n't| not) be delivered|delivery (has |to [^\n]{0,80})?failed|failed permanently|permanent (fatal )?error|user unknown|unknown user|no such (user|mailbox)|mailbox (unavailable|full|not found|is full)|recipient address rejected|not delivered|unable to deliver|delivery to the following|does not exist|could not deliver|wasn't able to deliver|delivery problem|has been delayed|not yet been delivered`)
	delayPhrase     = regexp.MustCompile(`(?i)delayed|will (be )?retr|will continue (to try|trying)|still (trying|being retried)|not yet been delivered|temporar(il)?y|deferred|will keep trying|will try again`)
	permanentPhrase = regexp.MustCompile(`(?i)permanent (error|failure)|failed permanently|permanent fatal|permanently (failed|rejected)|did not reach the following recipient|could not be reached|unable to deliver|i'm not going to try again|could not be delivered to|delivery (has )?failed|was not delivered|undeliverable`)
	giveUpPhrase    = regexp.MustCompile(`(?i)permanent|gave up|given up|giving up|too long|could not be delivered|undeliverable|failed|not be delivered|expired|no longer`)
	cutMarker       = regexp.MustCompile(`(?i)^\s*(-+|=+)?\s*(this is a copy of|below this line|original message|the original message (headers|follows|is attached)|original mail|the header of the original|(message )?headers? (of|from) (the )?original|forwarded message|start of returned message|unsent message below|returned message|copy of the original|undelivered message|original message follows)|^\s*original message headers:?\s*$|^content-type: message/rfc822`)
	headerStart     = regexp.MustCompile(`(?i)^(return-path|received|dkim-signature|x-received|delivered-to|message-id|authentication-results): `)
	addrRE          = regexp.MustCompile(`[A-Za-z0-9._%+\-=/!#$&'*?^{|}~]+@[A-Za-z0-9][A-Za-z0-9\-]*(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	senderContext   = regexp.MustCompile(`(?i)(mail from:?|envelope-from|sent by|from:|generated from)\s*<?\s*$`)
	noMailboxText   = regexp.MustCompile(`(?i)user unknown|unknown user|no such (user|mailbox|recipient)|unknown recipient|recipient (not found|unknown)|mailbox (does not exist|not found)|address does not exist`)
	networkText     = regexp.MustCompile(`(?i)socket error|requests to connect|connection (refused|timed out|reset|lost)|could not connect|no route to host|network is unreachable`)
	unitAfterCode   = regexp.MustCompile(`^[45]\d\d\s*(bytes|kb|mb|seconds|minutes|hours|days)\b`)
)

// maxDiags bounds the code lines a notice is searched for, so pairing
// recipients with them stays cheap on hostile input.
const maxDiags = 500

// maxNotice and maxLine bound the text the heuristic reads: a notice for
// people is short, and what follows it is the returned original.
const (
	maxNotice = 128 << 10
	maxLine   = 2000
	maxProse  = 16 << 10
)

// diag is one line of the text that holds a reply code or status.
type diag struct {
	line   int
	code   int
	status string
	text   string
}

// fromText applies the plain-text heuristic; nil when it finds no bounce.
func fromText(m *msg, bouncy bool) *Report {
	text := strings.Join(m.texts, "\n")
	if strings.TrimSpace(text) == "" && len(m.htmls) > 0 {
		text = mail.HTMLToText(strings.Join(m.htmls, "\n"))
	}
	if len(text) > maxNotice {
		text = text[:maxNotice]
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 5000 {
		lines = lines[:5000]
	}
	for i, l := range lines {
		if len(l) > maxLine {
			lines[i] = l[:maxLine]
		}
	}
	lines = m.cutOriginal(lines)
	notice := strings.Join(lines, "\n")
	if len(notice) > maxProse {
		notice = notice[:maxProse] // the prose that says what happened comes first
	}
	if !bouncy && !bouncePhrase.MatchString(notice) {
		return nil
	}
	rcpts, diags := scanText(lines, m.excluded())
	if len(diags) == 0 && (len(rcpts) == 0 || !bouncy) {
		return nil
	}
	tone := toneOf(notice)
	if len(rcpts) == 0 {
		rcpts = []rcptAt{{line: -1}}
	}
	r := &Report{Format: "text", Kind: Delayed}
	for i, rc := range rcpts {
		end := len(lines)
		if i+1 < len(rcpts) {
			end = rcpts[i+1].line
		}
		out, ok := textRecipient(rc, lines, diags, end, tone)
		if !ok {
			continue
		}
		if out.Action == "failed" {
			r.Kind = Failed
		}
		r.Recipients = append(r.Recipients, out)
		if len(r.Recipients) >= maxRecipients {
			break
		}
	}
	if len(r.Recipients) == 0 {
		return nil
	}
	return r
}

// tone is what the notice's prose says about the failure as a whole.
type tone struct{ permanent, delayed, givenUp bool }

func toneOf(notice string) tone {
	givenUp := giveUpPhrase.MatchString(notice)
	return tone{
		permanent: permanentPhrase.MatchString(notice),
		delayed:   delayPhrase.MatchString(notice) && !givenUp,
		givenUp:   givenUp,
	}
}

// textRecipient gives the outcome for one recipient mentioned on rc.line,
// whose part of the text ends at line end. With a reply code or status,
// that decides; without one, only an explicit statement does: a notice
// that says the failure is permanent gives status 5.0.0 ("other undefined
// status", RFC 3463 §3.1), or 4.4.7 when it says retrying timed out, or
// 5.1.1 when it says the mailbox does not exist; one
// that says delivery is delayed and will be retried is a delay. A
// connection failure is 4.4.1 even in a notice that calls itself
// permanent: it says nothing about the mailbox.
func textRecipient(rc rcptAt, lines []string, diags []diag, end int, t tone) (Recipient, bool) {
	out := Recipient{Final: rc.addr, Action: "failed"}
	if d, ok := diagFor(diags, rc.line, end); ok {
		out.Status, out.Code, out.Diagnostic = d.status, d.code, d.text
		if !isHard(d.status, d.code) && t.delayed {
			out.Action = "delayed"
		}
		if !isHard(d.status, d.code) && !t.delayed && !t.permanent && !t.givenUp {
			return out, false // class-4 only, and the text neither retries nor gives up
		}
		return out, true
	}
	if rc.line < 0 {
		return out, false
	}
	block := strings.Join(lines[rc.line:min(end, rc.line+8)], "\n")
	out.Diagnostic = oneLine(nextText(lines, rc.line, end, rc.addr))
	switch {
	case expiredText.MatchString(block) && !t.delayed:
		out.Status = "4.4.7"
	case networkText.MatchString(block) && !t.delayed:
		out.Status = "4.4.1" // no answer from host: says nothing about the mailbox
	case noMailboxText.MatchString(block) && !t.delayed:
		out.Status = "5.1.1" // the mailbox does not exist (RFC 3463 §3.2)
	case t.permanent:
		out.Status = "5.0.0"
	case t.delayed:
		out.Action = "delayed"
	default:
		return out, false
	}
	return out, true
}

// nextText is the explanation written after a recipient address: the rest
// of its line, or the next non-empty line of its block.
func nextText(lines []string, from, end int, addr string) string {
	rest := strings.TrimSpace(strings.Replace(lines[from], addr, "", 1))
	if len(strings.Trim(rest, "<>:., \t")) > 10 {
		return rest
	}
	for i := from + 1; i < end && i < from+4; i++ {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return s
		}
	}
	return ""
}

type rcptAt struct {
	line int
	addr string
}

// scanText lists the recipient addresses (first mention, not the sender's
// own) and the lines with a reply code or status, in order.
func scanText(lines []string, skip map[string]bool) ([]rcptAt, []diag) {
	var rcpts, skipped []rcptAt
	var diags []diag
	seen := map[string]bool{}
	for i, line := range lines {
		for _, loc := range addrRE.FindAllStringIndex(line, 10) {
			a := normAddr(line[loc[0]:loc[1]])
			k := strings.ToLower(a)
			if a == "" || seen[k] || isDaemonAddr(k) {
				continue
			}
			seen[k] = true
			if senderContext.MatchString(line[:loc[0]]) {
				continue // named as a sender: not a recipient, here or later
			}
			if skip[k] {
				skipped = append(skipped, rcptAt{line: i, addr: a})
				continue
			}
			if len(rcpts) < maxRecipients {
				rcpts = append(rcpts, rcptAt{line: i, addr: a})
			}
		}
		st := findStatus(line)
		code := textCode(line)
		if st != "" && st[0] == '2' {
			st = ""
		}
		if (st != "" || code != 0) && len(diags) < maxDiags {
			diags = append(diags, diag{line: i, code: code, status: st, text: oneLine(line)})
		}
	}
	if len(rcpts) == 0 && len(skipped) > 0 {
		// A sender's bounce of mail to itself: its own address is the
		// only one the notice names.
		rcpts = skipped[:1]
	}
	return rcpts, diags
}

// textCode finds a class 4 or 5 reply code in a line of prose, skipping
// numbers that are sizes or durations.
func textCode(line string) int {
	for _, m := range codeRE.FindAllStringSubmatchIndex(line, 5) {
		c := line[m[2]:m[3]]
		if c[0] != '4' && c[0] != '5' {
			continue
		}
		if unitAfterCode.MatchString(strings.ToLower(line[m[2]:])) {
			continue
		}
		n, _ := strconv.Atoi(c)
		return n
	}
	return 0
}

// diagFor picks the diagnostic of the recipient mentioned on line from:
// the first code line in [from, end), completed by a status (or code) on
// the next few lines; else the nearest before; else the first overall.
func diagFor(diags []diag, from, end int) (diag, bool) {
	for i, d := range diags {
		if d.line >= from && d.line < end {
			for _, n := range diags[i+1:] {
				if n.line >= end || n.line > d.line+6 {
					break
				}
				if d.status == "" {
					d.status = n.status
				}
				if d.code == 0 {
					d.code = n.code
				}
			}
			return d, true
		}
	}
	var best diag
	found := false
	for _, d := range diags {
		if d.line < from {
			best, found = d, true
		}
	}
	if !found && len(diags) > 0 {
		best, found = diags[0], true
	}
	return best, found
}

// cutOriginal returns the lines before the enclosed original message and,
// when no MIME part held it, reads the original's headers from after the
// marker.
func (m *msg) cutOriginal(lines []string) []string {
	for i, line := range lines {
		cut := cutMarker.MatchString(line)
		if !cut && headerStart.MatchString(line) && i+1 < len(lines) && looksLikeField([]byte(lines[i+1])) {
			cut = true
		}
		if !cut {
			continue
		}
		if !m.hasOrig {
			start := i
			if !headerStart.MatchString(line) {
				start = i + 1
			}
			rest := strings.TrimLeft(strings.Join(lines[start:], "\n"), " \t\n")
			m.enclosed([]byte(rest))
		}
		return lines[:i]
	}
	return lines
}

// excluded lists addresses that are not recipients of the bounced copy:
// the bounce's own sender and recipient and the original's sender.
func (m *msg) excluded() map[string]bool {
	skip := map[string]bool{}
	for _, v := range []string{m.top.get("from"), m.top.get("to"), m.top.get("return-path"), m.top.get("reply-to"),
		m.original.From, m.original.ReturnPath} {
		for _, a := range addrRE.FindAllString(v, 5) {
			skip[strings.ToLower(normAddr(a))] = true
		}
	}
	return skip
}

func isDaemonAddr(a string) bool {
	local := a
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		local = a[:i]
	}
	switch local {
	case "mailer-daemon", "postmaster", "mailer_daemon", "double-bounce", "root", "noreply", "no-reply":
		return true
	}
	return false
}
