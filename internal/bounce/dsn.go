package bounce

import (
	"regexp"
	"strconv"
	"strings"
)

// fromReportParts reads the machine-readable parts: an RFC 5965 feedback
// report, else RFC 3464 delivery-status fields (in their own part, or
// failing that in a text part that carries them inline, as some gateways
// send). It returns nil when there is none, or none names a recipient.
func fromReportParts(m *msg) *Report {
	if len(m.feedback) > 0 {
		return fromARF(m)
	}
	if r := fromJMRP(m); r != nil {
		return r
	}
	var r *Report
	for _, b := range m.status {
		r = mergeDSN(r, parseDSN(string(b)))
	}
	if r == nil {
		for _, t := range m.texts {
			if len(t) > maxNotice {
				t = t[:maxNotice]
			}
			if inlineDSN.MatchString(t) {
				r = mergeDSN(r, parseDSN(t))
			}
		}
	}
	if r == nil || len(r.Recipients) == 0 {
		return nil
	}
	r.Format = "dsn"
	r.Kind = Delayed
	for _, rc := range r.Recipients {
		if rc.Action == "failed" {
			r.Kind = Failed
		}
	}
	return r
}

// inlineDSN finds RFC 3464 recipient fields written into a text part.
var inlineDSN = regexp.MustCompile(`(?im)^(final|original)-recipient:[^\n]*\n(?:[^\n]*\n){0,8}?(action|status):`)

func mergeDSN(r, add *Report) *Report {
	if r == nil {
		return add
	}
	if r.ReportingMTA == "" {
		r.ReportingMTA = add.ReportingMTA
	}
	r.Recipients = append(r.Recipients, add.Recipients...)
	if len(r.Recipients) > maxRecipients {
		r.Recipients = r.Recipients[:maxRecipients]
	}
	return r
}

// parseDSN reads delivery-status fields (RFC 3464 §2.1): a per-message
// group, then one group per recipient. Groups are separated by blank lines
// or, when an MTA leaves those out, where a field repeats one the current
// recipient already has, or where an Original-Recipient follows the
// current recipient's Action or Status (RFC 3464 §2.3.1 puts it first). Field order
// inside a group is not relied on: Amazon SES writes Action first.
func parseDSN(body string) *Report {
	r := &Report{}
	var g group
	for _, f := range dsnFields(body) {
		switch {
		case f.name == "":
			g.flush(r)
		case f.name == "reporting-mta":
			if r.ReportingMTA == "" {
				r.ReportingMTA = stripType(f.value)
			}
		default:
			g.add(r, f)
		}
	}
	g.flush(r)
	return r
}

// group is the recipient group being read.
type group struct {
	cur       *Recipient
	seen      map[string]bool // fields the current group has
	afterRcpt bool            // an Action or Status came after the Final-Recipient
}

func (g *group) add(r *Report, f field) {
	known := f.name == "final-recipient" || f.name == "original-recipient" || f.name == "action" ||
		f.name == "status" || f.name == "diagnostic-code" || f.name == "remote-mta"
	if g.cur != nil && known && (g.seen[f.name] || f.name == "original-recipient" && g.afterRcpt) {
		g.flush(r)
	}
	if g.cur == nil {
		g.cur, g.seen, g.afterRcpt = &Recipient{}, map[string]bool{}, false
	}
	if known {
		g.seen[f.name] = true
	}
	switch f.name {
	case "final-recipient":
		g.cur.Final = normAddr(f.value)
	case "original-recipient":
		g.cur.Original = normAddr(f.value)
	case "x-actual-recipient":
		if g.cur.Final == "" {
			g.cur.Final = normAddr(f.value)
		}
	default:
		recipientField(g.cur, f.name, f.value)
		if (f.name == "action" || f.name == "status") && g.seen["final-recipient"] {
			g.afterRcpt = true
		}
	}
}

// flush files the current group as a recipient when it names one.
func (g *group) flush(r *Report) {
	cur := g.cur
	g.cur = nil
	if cur == nil || len(r.Recipients) >= maxRecipients {
		return
	}
	if cur.Final == "" {
		cur.Final = cur.Original
	}
	if cur.Final != "" {
		completeRecipient(cur)
		r.Recipients = append(r.Recipients, *cur)
	}
}

// recipientField sets one per-recipient field (RFC 3464 §2.3).
func recipientField(cur *Recipient, name, value string) {
	switch name {
	case "action":
		if cur.Action == "" {
			cur.Action = strings.ToLower(strings.Fields(value + " x")[0])
		}
	case "status":
		if cur.Status == "" {
			cur.Status = findStatus(value)
		}
	case "diagnostic-code":
		if cur.Diagnostic == "" {
			cur.Diagnostic = oneLine(stripType(value))
		}
	case "remote-mta":
		if cur.RemoteMTA == "" {
			cur.RemoteMTA = stripType(value)
		}
	}
}

// completeRecipient fills what the fields left open: the reply code and,
// when Status is missing, the enhanced status from the diagnostic text;
// the action from the status class when Action is missing.
func completeRecipient(rc *Recipient) {
	rc.Code = findCode(rc.Diagnostic)
	if st := findStatus(rc.Diagnostic); rc.Status == "" || (strings.HasSuffix(rc.Status, ".0.0") && st != "" && st[0] == rc.Status[0]) {
		if st != "" {
			rc.Status = st
		}
	}
	switch rc.Action {
	case "failed", "delayed", "delivered", "relayed", "expanded":
	default:
		switch {
		case strings.HasPrefix(rc.Status, "2."):
			rc.Action = "delivered"
		case strings.HasPrefix(rc.Status, "4."):
			rc.Action = "delayed"
		case strings.HasPrefix(rc.Status, "5."), rc.Code >= 500:
			rc.Action = "failed"
		default:
			rc.Action = "failed"
			if rc.Code >= 400 && rc.Code < 500 {
				rc.Action = "delayed"
			}
		}
	}
}

type field struct{ name, value string }

// dsnFields unfolds continuation lines and returns the fields in order,
// with an empty field where a blank line separates groups. Lines that are
// not fields are skipped.
func dsnFields(body string) []field {
	var out []field
	lines := strings.Split(body, "\n")
	if len(lines) > 2000 {
		lines = lines[:2000]
	}
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			if len(out) > 0 && out[len(out)-1].name != "" {
				out = append(out, field{})
			}
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 && out[len(out)-1].name != "" {
			if last := &out[len(out)-1]; len(last.value) < maxFieldLen {
				last.value += " " + strings.TrimSpace(line)
			}
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 || !looksLikeField([]byte(line)) {
			continue
		}
		out = append(out, field{strings.ToLower(strings.TrimSpace(line[:i])), strings.TrimSpace(line[i+1:])})
	}
	return out
}

// stripType removes an RFC 3464 §2.1.2 type prefix ("dns;", "rfc822;",
// "smtp;", "X-Postfix;") from a field value.
func stripType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 20 && !strings.ContainsAny(v[:i], " @<") {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

var (
	statusRE = regexp.MustCompile(`[245]\.\d{1,3}\.\d{1,3}`)
	codeRE   = regexp.MustCompile(`(?:^|[\s:;(\[#'"])([245][0-5]\d)(?:[\s\-.:]|$)`)
)

// findStatus returns the first RFC 3463 enhanced status code in s that is
// not part of a longer dotted number (an IP address or version).
func findStatus(s string) string {
	for _, loc := range statusRE.FindAllStringIndex(s, 20) {
		if loc[0] > 0 && (isDigit(s[loc[0]-1]) || s[loc[0]-1] == '.') {
			continue
		}
		if loc[1] < len(s) && (isDigit(s[loc[1]]) || s[loc[1]] == '.' && loc[1]+1 < len(s) && isDigit(s[loc[1]+1])) {
			continue
		}
		return s[loc[0]:loc[1]]
	}
	return ""
}

// findCode returns the first SMTP reply code (RFC 5321 §4.2) in s, 0 if none.
func findCode(s string) int {
	m := codeRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// fromARF reads an RFC 5965 feedback report (§3.1 required fields, §3.2
// optional ones).
func fromARF(m *msg) *Report {
	r := &Report{Format: "arf", Kind: Feedback}
	for _, b := range m.feedback {
		head, _ := splitHeader([]byte(strings.ReplaceAll(string(b), "\n\n", "\n")))
		h := parseHeader(head)
		if r.FeedbackType == "" {
			r.FeedbackType = strings.ToLower(strings.TrimSpace(h.get("feedback-type")))
		}
		if r.OriginalMailFrom == "" {
			r.OriginalMailFrom = strings.TrimSpace(strings.Trim(strings.TrimSpace(h.get("original-mail-from")), "<>"))
		}
		for _, v := range h["original-rcpt-to"] {
			if a := strings.TrimSpace(strings.Trim(strings.TrimSpace(v), "<>")); a != "" && len(r.RcptTo) < maxRecipients {
				r.RcptTo = append(r.RcptTo, a)
			}
		}
		if r.ReportingMTA == "" {
			r.ReportingMTA = stripType(h.get("reporting-mta"))
		}
	}
	if len(r.RcptTo) > 0 {
		r.OriginalRcptTo = r.RcptTo[0]
	}
	if r.FeedbackType == "abuse" || r.FeedbackType == "fraud" {
		r.Kind = Complaint
	}
	return r
}

// jmrpSubject is the subject of Microsoft's junk mail reporting program
// (JMRP) reports, which enclose the reported message without an RFC 5965
// feedback-report part.
var jmrpSubject = regexp.MustCompile(`(?i)^\s*complaint about message from`)

// fromJMRP reads a Microsoft JMRP report (Outlook.com, Hotmail): a user
// marked the enclosed message as junk, so it is an abuse complaint; the
// enclosed message's X-HmXmrOriginalRecipient names the recipient.
func fromJMRP(m *msg) *Report {
	from := strings.ToLower(m.top.get("from"))
	if !m.hasOrig || !jmrpSubject.MatchString(m.subject) ||
		!strings.Contains(from, "@hotmail.com") && !strings.Contains(from, "@outlook.com") && !strings.Contains(from, "@live.com") {
		return nil
	}
	r := &Report{Kind: Complaint, Format: "jmrp", FeedbackType: "abuse", OriginalMailFrom: m.original.ReturnPath}
	if a := normAddr(m.origRcpt); a != "" {
		r.OriginalRcptTo, r.RcptTo = a, []string{a}
	}
	return r
}
