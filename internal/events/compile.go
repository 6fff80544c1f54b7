package events

import (
	"encoding/json"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// filters are compiled filter expressions: all must match.
type filters map[string][]expr

func compile(raw map[string][]string) (filters, error) {
	f := filters{}
	for name, vs := range raw {
		for _, v := range vs {
			e, err := parseExpr(v)
			if err != nil {
				return nil, fault.Invalidf("invalid '%s' filter %q: %v", name, v, err)
			}
			f[name] = append(f[name], e)
		}
	}
	return f, nil
}

func (f filters) empty() bool { return len(f) == 0 }

// pushDown moves single plain equality filters on indexed columns into
// the store query, and returns the filters left for match: none when all
// went down. The store's equality is match's (the columns hold the
// event's type, its lower-cased recipient and its message id, as Record
// writes them), so matching again would only cost a parse of each
// event's JSON, which for a message with a large To header is most of a
// page's time.
func (f filters) pushDown(q *store.EventQuery) filters {
	one := func(name string) (string, bool) {
		if len(f[name]) != 1 {
			return "", false
		}
		return simpleTerm(f[name][0])
	}
	left := filters{}
	for name, exprs := range f {
		left[name] = exprs
	}
	if t, ok := one("event"); ok {
		q.Type = strings.ToLower(t)
		delete(left, "event")
	}
	if t, ok := one("recipient"); ok {
		q.Recipient = strings.ToLower(t)
		delete(left, "recipient")
	}
	if t, ok := one("message-id"); ok {
		q.MessageID = strings.Trim(t, "<>")
		delete(left, "message-id")
	}
	if len(left) == 0 {
		return left
	}
	return f // some filter is checked by match: it checks them all, as before
}

// filterView is the part of an event that filters look at.
type filterView struct {
	Event       string         `json:"event"`
	Severity    string         `json:"severity"`
	Recipient   string         `json:"recipient"`
	Message     *filterMessage `json:"message"`
	Tags        []string       `json:"tags"`
	MailingList *struct {
		Address string `json:"address"`
	} `json:"mailing-list"`
}

type filterMessage struct {
	Headers     mgapi.MessageHeaders `json:"headers"`
	Attachments []struct {
		Filename string `json:"filename"`
	} `json:"attachments"`
	Recipients []string `json:"recipients"`
	Size       int      `json:"size"`
}

func (f filters) match(data []byte) bool {
	if len(f) == 0 {
		return true
	}
	var v filterView
	if json.Unmarshal(data, &v) != nil {
		return false
	}
	for name, exprs := range f {
		m := matcher(name, &v)
		for _, e := range exprs {
			if !e.eval(m) {
				return false
			}
		}
	}
	return true
}

// matcher returns how one term of a field's filter matches the event:
// identifiers match exactly (case-insensitively), text fields by
// substring, tags by any tag, size numerically.
func matcher(name string, v *filterView) func(string) bool {
	exact := func(values ...string) func(string) bool {
		return func(t string) bool {
			for _, x := range values {
				if strings.EqualFold(strings.Trim(x, "<>"), strings.Trim(t, "<>")) {
					return true
				}
			}
			return false
		}
	}
	contains := func(values ...string) func(string) bool {
		return func(t string) bool {
			for _, x := range values {
				if strings.Contains(strings.ToLower(x), strings.ToLower(t)) {
					return true
				}
			}
			return false
		}
	}
	m := v.Message
	if m == nil {
		m = &filterMessage{}
	}
	switch name {
	case "event":
		return exact(v.Event)
	case "severity":
		return exact(v.Severity)
	case "recipient":
		return exact(v.Recipient)
	case "message-id":
		return exact(m.Headers.MessageID)
	case "tags":
		return exact(v.Tags...)
	case "list":
		if v.MailingList == nil {
			return exact()
		}
		return exact(v.MailingList.Address)
	case "from":
		return contains(m.Headers.From)
	case "to":
		return contains(m.Headers.To)
	case "subject":
		return contains(m.Headers.Subject)
	case "recipients":
		return contains(m.Recipients...)
	case "attachment":
		names := make([]string, len(m.Attachments))
		for i, a := range m.Attachments {
			names[i] = a.Filename
		}
		return contains(names...)
	case "size":
		return func(t string) bool { return numberMatches(t, m.Size) }
	}
	return func(string) bool { return false }
}
