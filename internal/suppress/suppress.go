// Package suppress is the use case of a domain's suppression lists
// (docs/mailgun-contract.md §4): bounces, unsubscribes (per tag, "*" for every message),
// complaints and the allowlist, how records are read from Mailgun's inputs,
// background CSV imports, and the send-time rule of docs/mailgun-contract.md §4.6.
//
// The rule (Decide) is one pure function used at accept time (package send,
// inside the accept transaction) and again just before delivery (package
// delivery), so that an address suppressed in between is still not
// delivered: a bounce, an unsubscribe of "*" or of one of the message's
// tags, or a complaint stops a recipient; an allowlisted address or domain
// is never stopped by a bounce, and a permanent delivery failure never
// adds it to the bounces.
//
// Failure rules: bad input is a fault.Invalid and writes nothing; a bulk
// add is one transaction, all or nothing.
package suppress

import (
	"slices"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Mailgun's reasons for recipients dropped because of a list, and the code
// of their delivery status.
const (
	ReasonBounce      = "suppress-bounce"
	ReasonUnsubscribe = "suppress-unsubscribe"
	ReasonComplaint   = "suppress-complaint"
	Code              = 605
)

// Verdict says why a recipient must not be delivered; Reason is "" when it
// may be.
type Verdict struct {
	Reason  string
	Message string
}

// Decide applies docs/mailgun-contract.md §4.6 to the records that match a recipient (its address,
// or its domain on the allowlist) for a message carrying tags.
func Decide(hits []store.Suppression, tags []string) Verdict {
	allowed, bounced, unsubscribed, complained := false, false, false, false
	for _, h := range hits {
		switch h.List {
		case store.Allowlist:
			allowed = true
		case store.Bounces:
			bounced = true
		case store.Unsubscribes:
			unsubscribed = unsubscribed || slices.ContainsFunc(h.Tags, func(t string) bool {
				return t == "*" || slices.Contains(tags, strings.ToLower(t))
			})
		case store.Complaints:
			complained = true
		}
	}
	switch {
	case bounced && !allowed:
		return Verdict{ReasonBounce, "Not delivering to previously bounced address"}
	case unsubscribed:
		return Verdict{ReasonUnsubscribe, "Not delivering to unsubscribed address"}
	case complained:
		return Verdict{ReasonComplaint, "Not delivering to a user who marked your messages as spam"}
	}
	return Verdict{}
}

// Status is the delivery-status of a recipient dropped for v.
func (v Verdict) Status() mgapi.DeliveryStatus {
	return mgapi.DeliveryStatus{Code: Code, Message: v.Message, Description: v.Message, AttemptNo: 1}
}

// Lists are the list names of the API, as in its URLs.
var Lists = []string{store.Bounces, store.Unsubscribes, store.Complaints, store.Allowlist}

// Input is one record as a client sent it, in a form, a JSON array or a
// CSV row.
type Input struct {
	Address   string   `json:"address"`
	Code      string   `json:"code"`
	Error     string   `json:"error"`
	Tag       string   `json:"tag"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"created_at"`
	Domain    string   `json:"domain"` // allowlist
	Reason    string   `json:"reason"` // allowlist
}

// MaxBatch is the largest JSON array a bulk add takes.
const MaxBatch = 1000

// Record turns an input into a record of list for domain, with Mailgun's
// defaults and mailgun-go's quirks (docs/mailgun-contract.md §4.2): an empty code is 550, an empty
// or year-1 created_at is now, an unsubscribe without tags is for every
// message ("*").
func Record(domain, list string, in Input, now time.Time) (store.Suppression, error) {
	s := store.Suppression{Domain: domain, List: list, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if list == store.Allowlist {
		return allowRecord(s, in)
	}
	addr, err := address(in.Address)
	if err != nil {
		return s, err
	}
	s.Address = addr
	if at := strings.TrimSpace(in.CreatedAt); at != "" {
		t, err := mgapi.ParseDate(at)
		if err != nil {
			return s, fault.Invalidf("%v", err)
		}
		if t.Year() > 1 {
			s.CreatedAt = t.UTC().Truncate(time.Microsecond)
		}
	}
	switch list {
	case store.Bounces:
		s.Code, s.Error = strings.TrimSpace(in.Code), in.Error
		if s.Code == "" {
			s.Code = "550"
		}
		if !validCode(s.Code) {
			return s, fault.Invalidf("'code' parameter must be an SMTP reply code, not %q", s.Code)
		}
	case store.Unsubscribes:
		s.Tags = tagsOf(in)
	case store.Complaints:
		s.Count = 1
	}
	return s, nil
}

func validCode(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func tagsOf(in Input) []string {
	var out []string
	for _, t := range append([]string{in.Tag}, in.Tags...) {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	return out
}

func allowRecord(s store.Suppression, in Input) (store.Suppression, error) {
	addr, dom := strings.TrimSpace(in.Address), strings.ToLower(strings.TrimSpace(in.Domain))
	switch {
	case addr != "" && dom != "":
		return s, fault.Invalidf("Send either address or domain, not both")
	case addr != "":
		a, err := address(addr)
		s.Address, s.Type = a, "address"
		if err != nil {
			return s, err
		}
	case dom != "":
		if strings.ContainsAny(dom, "@ \t") || !strings.Contains(dom, ".") {
			return s, fault.Invalidf("%q is not a valid domain", dom)
		}
		s.Address, s.Type = dom, "domain"
	default:
		return s, fault.Invalidf("Missing mandatory parameter: address/domain")
	}
	s.Reason = in.Reason
	return s, nil
}

// address checks and lower-cases an address.
func address(a string) (string, error) {
	a = strings.ToLower(strings.TrimSpace(a))
	if a == "" {
		return "", fault.Invalidf("Missing mandatory parameter: address")
	}
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t\r\n<>,;") || len(a) > 512 {
		return "", fault.Invalidf("%q is not a valid address", a)
	}
	return a, nil
}

// Address is how a path segment names a record: lower case.
func Address(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Bulk reads a JSON array of inputs (at most MaxBatch).
func Bulk(domain, list string, items []Input, now time.Time) ([]store.Suppression, error) {
	if len(items) > MaxBatch {
		return nil, fault.Invalidf("Batch size should be less than %d", MaxBatch)
	}
	if len(items) == 0 {
		return nil, fault.Invalidf("the JSON array of records is empty")
	}
	out := make([]store.Suppression, 0, len(items))
	for i, in := range items {
		s, err := Record(domain, list, in, now)
		if err != nil {
			return nil, itemError(i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func itemError(i int, err error) error {
	if f, ok := fault.As(err); ok {
		return fault.Invalidf("item %d: %s", i, f.Message)
	}
	return err
}
