package routes

import (
	"errors"
	"testing"
)

// FuzzParseExpression: the parser never panics, refuses only with a
// *SyntaxError inside the text, and what it accepts prints back to text
// that parses to the same filters and can be evaluated.
func FuzzParseExpression(f *testing.F) {
	for _, s := range []string{
		`match_recipient(".*@bar.com")`,
		`match_recipient('^chris\+(.*)@example.com$') and match_header("subject", ".*(urgent|help)")`,
		`match_recipient("(?P<user>.*?)@(?P<domain>.*)")`,
		`catch_all()`,
		`match_header('X-Quote', 'it\'s "x" \\d')`,
		`match_recipient("(?i-s:a)\Z{,2}[]x]\u00e9")`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpression(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos < 1 || se.Pos > len(s)+1 {
				t.Fatalf("ParseExpression(%q) = %v: want a *SyntaxError with a position in the text", s, err)
			}
			return
		}
		again, err := ParseExpression(e.String())
		if err != nil {
			t.Fatalf("ParseExpression(%q) printed as %q, which does not parse: %v", s, e.String(), err)
		}
		if len(again.Filters) != len(e.Filters) {
			t.Fatalf("%q printed as %q: %d filters, then %d", s, e.String(), len(e.Filters), len(again.Filters))
		}
		for i := range e.Filters {
			a, b := e.Filters[i], again.Filters[i]
			if a.Kind != b.Kind || a.Header != b.Header || a.Pattern != b.Pattern {
				t.Fatalf("%q printed as %q: filter %d %+v became %+v", s, e.String(), i, a, b)
			}
		}
		c := &Compiled{Expr: e, Actions: []Action{{Kind: Forward, Dests: []string{`https://h/\1/\g<x>`}}}}
		Evaluate([]*Compiled{c}, Input{Recipient: "a@b.c", Headers: [][2]string{{"Subject", s}}})
	})
}

// FuzzParseAction: actions never panic and print back to themselves.
func FuzzParseAction(f *testing.F) {
	for _, s := range []string{`forward("https://h/\g<user>?x=\1")`, `forward("a@b.com, https://h/x", 'c@d.org')`,
		`store(notify="https://h/n")`, `store()`, `stop()`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAction(s)
		if err != nil {
			return
		}
		b, err := ParseAction(a.String())
		if err != nil || b.String() != a.String() {
			t.Fatalf("ParseAction(%q) printed as %q, which reads back as %q, %v", s, a.String(), b.String(), err)
		}
	})
}
