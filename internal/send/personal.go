package send

import (
	"encoding/json"
	netmail "net/mail"
	"regexp"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
)

// Personal is what personalises one recipient's copy: its variables
// (recipient-variables of a batch send, or a list member's vars), and for
// list members the member's name and the list it was reached through.
// It is a job's Vars for messages that fanned out to lists (Meta.Lists);
// batch-only messages keep just the variables object there.
type Personal struct {
	Vars map[string]any `json:"vars,omitempty"`
	Name string         `json:"name,omitempty"`
	List string         `json:"list,omitempty"`
}

// Personalised reports whether each recipient gets its own copy, built at
// delivery: batch sends and list fan-outs.
func (m *Meta) Personalised() bool { return m.Batch || len(m.Lists) > 0 && !m.SameContent }

// placeholders are the texts that make a copy differ per recipient:
// Mailgun's recipient variables, and the unsubscribe links tracking fills
// per recipient.
var placeholders = []string{"%recipient", "%unsubscribe_url%", "%tag_unsubscribe_url%",
	"%mailing_list_unsubscribe_url%", "%unsubscribe_email%", "%tag_unsubscribe_email%"}

// hasPlaceholders reports whether any text of sub may hold a
// per-recipient placeholder. An uploaded MIME message counts as having
// one: its encoded parts cannot be searched cheaply.
func hasPlaceholders(sub *Submission) bool {
	if sub.MIME != nil {
		return true
	}
	texts := []string{sub.From, sub.Subject, sub.Text, sub.HTML, sub.AMP}
	for _, h := range sub.Headers {
		texts = append(texts, h.Value)
	}
	for _, v := range sub.Vars {
		texts = append(texts, v)
	}
	for _, t := range texts {
		if !strings.Contains(t, "%") {
			continue
		}
		for _, p := range placeholders {
			if strings.Contains(t, p) {
				return true
			}
		}
	}
	return false
}

// JobPersonal decodes a job's Vars for this message.
func (m *Meta) JobPersonal(raw []byte) (Personal, error) {
	var p Personal
	if len(raw) == 0 {
		return p, nil
	}
	if len(m.Lists) > 0 {
		err := json.Unmarshal(raw, &p)
		return p, err
	}
	err := json.Unmarshal(raw, &p.Vars)
	return p, err
}

// UserVarsForJob returns the user-variables of one job's events.
func (m *Meta) UserVarsForJob(rcpt string, raw []byte) map[string]any {
	p, _ := m.JobPersonal(raw)
	return m.userVars(rcpt, p)
}

// userVars returns the user-variables of one recipient's events: the v:*
// values, with %recipient…% placeholders filled for personalised sends.
func (m *Meta) userVars(rcpt string, p Personal) map[string]any {
	if len(m.VarTemplates) == 0 {
		return m.Info.UserVariables
	}
	out := make(map[string]any, len(m.Info.UserVariables))
	for k, v := range m.Info.UserVariables {
		out[k] = v
	}
	r := PersonalReplacer(rcpt, p)
	for k, t := range m.VarTemplates {
		out[k] = DecodeVar(r(t))
	}
	return out
}

// Replacer substitutes batch placeholders for one recipient with its
// recipient-variables (see PersonalReplacer).
func Replacer(rcpt string, vars map[string]any) func(string) string {
	return PersonalReplacer(rcpt, Personal{Vars: vars})
}

// PersonalReplacer substitutes Mailgun's recipient placeholders (reference
// §2.2 and §5.3) for one recipient: %recipient% (the address, or
// "Name <address>" when the name is known), %recipient_email%,
// %recipient_name%, %recipient_fname%, %recipient_lname% and
// %recipient.<key>% from its variables. Unknown placeholders are left as
// they are — %unsubscribe_url%, %tag_unsubscribe_url%,
// %mailing_list_unsubscribe_url%, %unsubscribe_email% and
// %tag_unsubscribe_email% belong to tracking, which fills them.
func PersonalReplacer(rcpt string, p Personal) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, "%recipient") {
			return s
		}
		var b strings.Builder
		for {
			i := strings.Index(s, "%recipient")
			if i < 0 {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i])
			rest := s[i+1:]
			j := strings.IndexByte(rest, '%')
			if j < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			if v, ok := placeholder(rest[:j], rcpt, p); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+j+2])
			}
			s = rest[j+1:]
		}
	}
}

func placeholder(name, rcpt string, p Personal) (string, bool) {
	switch name {
	case "recipient":
		return recipientSpec(p.Name, rcpt), true
	case "recipient_email":
		return rcpt, true
	case "recipient_name":
		return p.Name, true
	case "recipient_fname":
		first, _, _ := strings.Cut(strings.TrimSpace(p.Name), " ")
		return first, true
	case "recipient_lname":
		_, last, _ := strings.Cut(strings.TrimSpace(p.Name), " ")
		return strings.TrimSpace(last), true
	}
	key, ok := strings.CutPrefix(name, "recipient.")
	if !ok {
		return "", false
	}
	v, ok := p.Vars[key]
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", true
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}

// recipientSpec is "Name <address>" for %recipient%: the name as is when
// it is a phrase of plain words, quoted (or encoded) otherwise.
func recipientSpec(name, addr string) string {
	if name == "" {
		return addr
	}
	for _, r := range name {
		plain := r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
		if !plain {
			return (&netmail.Address{Name: name, Address: addr}).String()
		}
	}
	return name + " <" + addr + ">"
}

var headerVar = regexp.MustCompile(`%recipient\.([^%\s]+)%`)

// checkHeaderVars refuses recipient variables holding a line break that a
// header field uses (%recipient.x% in the subject, from or an h: header):
// the copy's header would be broken. Line breaks in variables used only in
// the body are fine.
func checkHeaderVars(sub *Submission) error {
	if len(sub.RecipientVar) == 0 {
		return nil
	}
	texts := []string{sub.From, sub.Subject}
	for _, h := range sub.Headers {
		texts = append(texts, h.Value)
	}
	used := map[string]bool{}
	for _, t := range texts {
		for _, m := range headerVar.FindAllStringSubmatch(t, -1) {
			used[m[1]] = true
		}
	}
	for addr, vars := range sub.RecipientVar {
		for name := range used {
			if v, ok := vars[name].(string); ok && strings.ContainsAny(v, "\r\n") {
				return fault.Invalidf("'recipient-variables' parameter: the value of %%recipient.%s%% for %s contains a line break, and a header uses it", name, addr)
			}
		}
	}
	return nil
}
