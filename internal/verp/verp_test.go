package verp

import (
	"strings"
	"testing"
)

const key = "AAZiDm-t9sAvzkR2mZplFDtr07w" // a message key as send makes them

func TestAddressRoundTrip(t *testing.T) {
	t.Parallel()
	s := New([]byte("k1"))
	addr := s.Address(key, "MG.Example.com", "Ann@Example.org")
	local, domain, _ := strings.Cut(addr, "@")
	if !strings.HasPrefix(local, Prefix) || domain != "mg.example.com" || len(local) > 64 {
		t.Fatalf("address %q (local part %d octets)", addr, len(local))
	}
	for _, a := range []string{addr, strings.ToUpper(addr)} { // case changed in transit
		tok, ok := s.Parse(a)
		if !ok || tok.Key != key || tok.Domain != "mg.example.com" {
			t.Fatalf("Parse(%q) = %+v, %v", a, tok, ok)
		}
		if !s.Names(tok, "ann@example.org") || s.Names(tok, "bob@example.org") {
			t.Fatalf("Names: the token must name ann and only ann")
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	s := New([]byte("k1"))
	addr := s.Address(key, "mg.example.com", "ann@example.org")
	local, _, _ := strings.Cut(addr, "@")
	flip := []byte(local)
	flip[len(Prefix)+3] ^= 1 // another base32 letter
	bad := map[string]string{
		"other domain":     local + "@other.example.com",
		"altered token":    string(flip) + "@mg.example.com",
		"other secret":     New([]byte("k2")).Address(key, "mg.example.com", "ann@example.org"),
		"truncated":        local[:len(local)-1] + "@mg.example.com",
		"old style":        "bounce+ZplFDtr07w@mg.example.com",
		"not base32":       Prefix + strings.Repeat("1", 52) + "@mg.example.com",
		"no prefix":        strings.TrimPrefix(local, Prefix) + "@mg.example.com",
		"no domain":        local,
		"empty":            "",
		"prefix only":      "bounce+@mg.example.com",
		"unicode in token": Prefix + strings.Repeat("é", 26) + "@mg.example.com",
	}
	for name, a := range bad {
		if other, ok := s.Parse(a); ok {
			t.Errorf("%s: Parse(%q) accepted: %+v", name, a, other)
		}
	}
}

func TestAddressNeedsAMessageKey(t *testing.T) {
	t.Parallel()
	s := New([]byte("k1"))
	for _, k := range []string{"", "short", "AAZiDm-t9sAvzkR2mZplFDtr07wXX", "not base64 at all!!!!!!!!!!"} {
		if a := s.Address(k, "mg.example.com", "ann@example.org"); a != "" {
			t.Errorf("Address(%q) = %q, want \"\"", k, a)
		}
	}
}

func FuzzParse(f *testing.F) {
	s := New([]byte("k1"))
	f.Add(s.Address(key, "mg.example.com", "ann@example.org"))
	f.Add("bounce+x@y")
	f.Fuzz(func(t *testing.T, addr string) {
		tok, ok := s.Parse(addr)
		if ok && !strings.EqualFold(s.Address(tok.Key, tok.Domain, "x@y")[:len(Prefix)+27], addr[:len(Prefix)+27]) {
			t.Fatalf("accepted %q, whose key does not re-encode the same", addr)
		}
	})
}
