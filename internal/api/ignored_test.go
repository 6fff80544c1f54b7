package api

import (
	"strings"
	"testing"
)

// TestIgnoredHeader: names joined as printable ASCII, long names and long
// lists cut short.
func TestIgnoredHeader(t *testing.T) {
	t.Parallel()
	if got := ignoredHeader([]string{"a", "o:bogus"}); got != "a, o:bogus" {
		t.Errorf("ignoredHeader = %q", got)
	}
	if got := ignoredHeader([]string{"x\r\ny\x00é"}); got != "x??y???" {
		t.Errorf("control and non-ASCII bytes: %q", got)
	}
	if got := ignoredHeader([]string{strings.Repeat("n", 5000)}); got != strings.Repeat("n", 100)+"..." {
		t.Errorf("a long name is %d bytes", len(got))
	}
	many := make([]string, 500)
	for i := range many {
		many[i] = "param"
	}
	if got := ignoredHeader(many); len(got) > 1010 || !strings.HasSuffix(got, ", ...") {
		t.Errorf("500 names: %d bytes, ending %q", len(got), got[len(got)-10:])
	}
}
