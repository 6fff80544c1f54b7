package events

import (
	"net/url"
	"testing"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// FuzzParseQuery: the Events API's filter language (AND/OR/NOT, phrases,
// ranges) and its page tokens are read or refused with a 400, never a
// panic or a 5xx.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"event=delivered OR failed&recipient=a@b.example&limit=300&ascending=yes",
		"tags=NOT bulk AND (a OR b)&subject=\"hello world\"&size=>1000",
		"begin=Tue, 01 Dec 2026 10:00:00 +0000&end=1764583200&severity=permanent",
		"from=\"unterminated&to=((a)",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, query, token string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		_, err = ParseQuery(mgapi.NewParams(v))
		if err != nil && fault.KindOf(err) != fault.Invalid {
			t.Fatalf("ParseQuery(%q): %v", query, err)
		}
		if _, err := ParseToken(token); err != nil && !fault.KindOf(err).Client() {
			t.Fatalf("ParseToken(%q): %v", token, err)
		}
	})
}
