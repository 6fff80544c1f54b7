// Package msgmeta is the stored message format: what the store keeps
// beside a message body (store.Message.Meta) — the message's event
// information, its o:* options, batch and list personalisation — and the
// per-recipient placeholders filled from it. Package send writes it at
// accept; delivery, inbound (bounces, resends), the storage API and the
// dashboard read it, all through this package, so none of them needs the
// send use case to read a stored message.
//
// Invariant: the JSON encoding is persistent; a field may be added (with
// omitempty) but never renamed or given another meaning, since messages
// accepted by an older Salvo are delivered by a newer one.
package msgmeta

import (
	"encoding/json"
	netmail "net/mail"
	"strings"

	"github.com/salvo-email/salvo/internal/events"
)

// Options are the o:* options kept with a message.
type Options struct {
	DKIM             bool     `json:"dkim"`
	DeliveryTime     int64    `json:"delivery_time,omitempty"` // Unix seconds, 0 = now
	TestMode         bool     `json:"test_mode,omitempty"`
	Tracking         *bool    `json:"tracking,omitempty"`
	TrackingClicks   string   `json:"tracking_clicks,omitempty"` // yes, no, htmlonly
	TrackingOpens    *bool    `json:"tracking_opens,omitempty"`
	TrackingPixelTop bool     `json:"tracking_pixel_top,omitempty"`
	RequireTLS       bool     `json:"require_tls,omitempty"`
	SkipVerification bool     `json:"skip_verification,omitempty"`
	SuppressHeaders  []string `json:"suppress_headers,omitempty"`
	ArchiveTo        string   `json:"archive_to,omitempty"`
	// SendingIP (o:sending-ip) is a source address of the node, canonical;
	// SendingIPPool (o:sending-ip-pool) a pool id. Delivery leaves from
	// the one given (package ips), SendingIP first.
	SendingIP     string `json:"sending_ip,omitempty"`
	SendingIPPool string `json:"sending_ip_pool,omitempty"`
}

// Meta is what the store keeps beside a message body (store.Message.Meta).
type Meta struct {
	Info    events.MessageInfo `json:"info"`
	Options Options            `json:"options"`
	// Batch is set when recipient-variables were given: each recipient gets
	// a personalised copy built at delivery.
	Batch bool `json:"batch,omitempty"`
	// Lists are the mailing lists the message fanned out to. When set,
	// every job's Vars is a Personal (see JobPersonal) and every copy is
	// personalised at delivery, unless SameContent: the message holds no
	// per-recipient placeholder, so all copies are one (signed once, sent
	// with many RCPTs a transaction).
	Lists       []string `json:"lists,omitempty"`
	SameContent bool     `json:"same_content,omitempty"`
	// VarTemplates are v:* values holding %recipient.x% placeholders,
	// resolved per recipient for its events (batch only).
	VarTemplates map[string]string `json:"var_templates,omitempty"`
	// Recipients are the envelope recipients, as accepted.
	Recipients []string `json:"recipients"`
	// Vars are the v:* values as given (for resends).
	Vars map[string]string `json:"vars,omitempty"`
}

// InfoFor is the message information the events of rcpt carry. A batch
// copy shows only its own recipient in To (delivery renders it so), and
// so do its events, which also keeps a large batch from repeating every
// address in every event.
func (m *Meta) InfoFor(rcpt string) *events.MessageInfo {
	if !m.Batch {
		return &m.Info
	}
	one := m.Info
	one.To = rcpt
	return &one
}

// Decode reads a stored Meta.
func Decode(b []byte) (Meta, error) {
	var m Meta
	err := json.Unmarshal(b, &m)
	return m, err
}

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
	return m.UserVars(rcpt, p)
}

// UserVars returns the user-variables of one recipient's events: the v:*
// values, with %recipient…% placeholders filled for personalised sends.
func (m *Meta) UserVars(rcpt string, p Personal) map[string]any {
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

// PersonalReplacer substitutes Mailgun's recipient placeholders (docs/mailgun-contract.md
// docs/mailgun-contract.md §2.2 and docs/mailgun-contract.md §5.3) for one recipient: %recipient% (the address, or
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

// DecodeVar reads a v:* value: a JSON object or array is decoded, any
// other value stays the string it is.
func DecodeVar(v string) any {
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		var x any
		if json.Unmarshal([]byte(t), &x) == nil {
			return x
		}
	}
	return v
}
