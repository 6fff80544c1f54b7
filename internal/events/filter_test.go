package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

func TestParseExprErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "   ", "(accepted", "accepted)", "()", "accepted OR", "OR accepted",
		"NOT", `"unterminated`, "a AND OR b", "(a OR b", "AND a", "a AND", "NOT )", "a OR NOT", "NOT NOT"} {
		if _, err := parseExpr(in); err == nil {
			t.Errorf("parseExpr(%q) succeeded, want an error", in)
		}
	}
}

// TestExprEval evaluates expressions against a set of true terms.
func TestExprEval(t *testing.T) {
	t.Parallel()
	cases := []struct {
		expr string
		true []string // the terms that match
		want bool
	}{
		{"a", []string{"a"}, true},
		{"a", []string{"b"}, false},
		{"a b", []string{"a", "b"}, true},
		{"a b", []string{"a"}, false},
		{"a AND b", []string{"b"}, false},
		{"a OR b", []string{"b"}, true},
		{"a OR b", nil, false},
		{"NOT a", nil, true},
		{"NOT a", []string{"a"}, false},
		{"NOT NOT a", []string{"a"}, true},
		{"a OR b c", []string{"c"}, false}, // AND binds tighter than OR
		{"a OR b c", []string{"b", "c"}, true},
		{"(a OR b) c", []string{"a", "c"}, true},
		{"(a OR b) c", []string{"a"}, false},
		{"NOT (a OR b)", []string{"b"}, false},
		{"NOT (a OR b)", []string{"c"}, true},
		{"NOT a b", []string{"b"}, true}, // NOT binds to one term
		{`"two words"`, []string{"two words"}, true},
		{`"OR"`, []string{"OR"}, true}, // a quoted keyword is a term
		{"x AND (y OR (z AND NOT w))", []string{"x", "z"}, true},
		{"x AND (y OR (z AND NOT w))", []string{"x", "z", "w"}, false},
	}
	for _, c := range cases {
		e, err := parseExpr(c.expr)
		if err != nil {
			t.Errorf("parseExpr(%q): %v", c.expr, err)
			continue
		}
		set := map[string]bool{}
		for _, s := range c.true {
			set[s] = true
		}
		if got := e.eval(func(term string) bool { return set[term] }); got != c.want {
			t.Errorf("%q with %v true = %v, want %v", c.expr, c.true, got, c.want)
		}
	}
}

func TestNumberMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		term string
		v    int
		want bool
	}{
		{">10", 11, true}, {">10", 10, false}, {">=10", 10, true}, {"<20", 19, true}, {"<20", 20, false},
		{"<=20", 20, true}, {"15", 15, true}, {"15", 16, false}, {">x", 5, false}, {"", 0, false},
	}
	for _, c := range cases {
		if got := numberMatches(c.term, c.v); got != c.want {
			t.Errorf("numberMatches(%q, %d) = %v, want %v", c.term, c.v, got, c.want)
		}
	}
}

// TestFilterMatch runs whole filters against event JSON as the store
// keeps it.
func TestFilterMatch(t *testing.T) {
	t.Parallel()
	mi := &MessageInfo{Domain: "mg.example.com", MessageID: "20260101.abc@mg.example.com",
		From: "Sender <sender@mg.example.com>", To: "Ann <ann@dest.example>", Subject: "Spring sale, 20% off",
		Size: 15000, Tags: []string{"newsletter", "spring"},
		Attachments: []mgapi.AttachmentInfo{{Filename: "catalogue.pdf", ContentType: "application/pdf", Size: 9}}}
	now := time.Unix(1767225600, 0)
	delivered := NewDelivered(mi, "Ann@Dest.example", nil, mgapi.DeliveryStatus{Code: 250}, now).Data
	failed := NewFailed(mi, "bob@dest.example", nil, Permanent, "bounce", mgapi.DeliveryStatus{Code: 550}, now).Data
	cases := []struct {
		filters map[string][]string
		data    []byte
		want    bool
	}{
		{map[string][]string{"event": {"delivered"}}, delivered, true},
		{map[string][]string{"event": {"DELIVERED"}}, delivered, true},
		{map[string][]string{"event": {"failed OR rejected"}}, delivered, false},
		{map[string][]string{"event": {"failed OR rejected"}}, failed, true},
		{map[string][]string{"recipient": {"ann@dest.example"}}, delivered, true},
		{map[string][]string{"message-id": {"<20260101.abc@mg.example.com>"}}, delivered, true},
		{map[string][]string{"message-id": {"20260101.abc@mg.example.com"}}, failed, true},
		{map[string][]string{"tags": {"spring"}}, delivered, true},
		{map[string][]string{"tags": {"NOT spring"}}, delivered, false},
		{map[string][]string{"tags": {"autumn OR newsletter"}}, delivered, true},
		{map[string][]string{"tags": {"newsletter", "autumn"}}, delivered, false}, // repeated field = AND
		{map[string][]string{"subject": {`"20% off"`}}, delivered, true},
		{map[string][]string{"subject": {"sale spring"}}, delivered, true},
		{map[string][]string{"subject": {"winter"}}, delivered, false},
		{map[string][]string{"from": {"sender@mg"}}, delivered, true},
		{map[string][]string{"to": {"ann@"}}, delivered, true},
		{map[string][]string{"attachment": {"catalogue"}}, delivered, true},
		{map[string][]string{"size": {">10000 <20000"}}, delivered, true},
		{map[string][]string{"size": {">20000"}}, delivered, false},
		{map[string][]string{"severity": {"permanent"}}, failed, true},
		{map[string][]string{"severity": {"permanent"}}, delivered, false},
		{map[string][]string{"list": {"list@mg.example.com"}}, delivered, false},
		{map[string][]string{"event": {"failed"}, "severity": {"temporary"}}, failed, false},
	}
	for _, c := range cases {
		f, err := compile(c.filters)
		if err != nil {
			t.Fatalf("compile(%v): %v", c.filters, err)
		}
		var ev struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal(c.data, &ev)
		if got := f.match(c.data); got != c.want {
			t.Errorf("%v on %s = %v, want %v", c.filters, ev.Event, got, c.want)
		}
	}
}
