package delivery

import (
	"fmt"
	"testing"
)

// TestVainClaim: a claim is vain only after one that found nothing, when
// it skips at least what that one skipped and every destination with news
// since is skipped too.
func TestVainClaim(t *testing.T) {
	t.Parallel()
	set := func(ds ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, d := range ds {
			m[d] = struct{}{}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		idle []string // nil: no empty claim remembered
		skip []string
		news map[string]struct{}
		vain bool
	}{
		{"nothing remembered", nil, []string{"a"}, nil, false},
		{"same skip, no news", []string{"a"}, []string{"a"}, nil, true},
		{"news for a skipped destination", []string{"a"}, []string{"a"}, set("a"), true},
		{"news for another destination", []string{"a"}, []string{"a"}, set("a", "b"), false},
		{"a destination no longer skipped", []string{"a", "b"}, []string{"a"}, nil, false},
		{"more skipped now", []string{"a"}, []string{"a", "b"}, set("b"), true},
		{"empty claim skipping nothing, no news", []string{}, nil, nil, true},
		{"empty claim skipping nothing, then news", []string{}, nil, set("a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c idleClaim
			if tc.idle != nil {
				c.set(tc.idle)
			}
			if got := c.vain(tc.skip, tc.news); got != tc.vain {
				t.Fatalf("vain = %v, want %v", got, tc.vain)
			}
			c.forget()
			if c.vain(tc.skip, tc.news) {
				t.Fatal("vain after forget")
			}
		})
	}
}

// TestNews: news collects destinations until taken; unknown ones (nil)
// and more than maxNewsDests make it say unknown.
func TestNews(t *testing.T) {
	t.Parallel()
	var n news
	n.add([]string{"a", "b"})
	n.add([]string{"a"})
	if d, u := n.take(); len(d) != 2 || u {
		t.Fatalf("take = %v, %v; want a and b, known", d, u)
	}
	if d, u := n.take(); len(d) != 0 || u {
		t.Fatalf("second take = %v, %v; want nothing", d, u)
	}
	n.add(nil)
	if _, u := n.take(); !u {
		t.Fatal("nil destinations are not unknown")
	}
	for i := range maxNewsDests + 1 {
		n.add([]string{fmt.Sprint("d", i)})
	}
	if d, u := n.take(); !u || len(d) > maxNewsDests {
		t.Fatalf("after %d destinations: %d kept, unknown %v", maxNewsDests+1, len(d), u)
	}
}
