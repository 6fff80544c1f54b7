package exports

import (
	"context"
	"net/url"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/v3/mg.example.com/bounces":                               "mg.example.com bounces",
		"v3/MG.example.com/unsubscribes":                           "mg.example.com unsubscribes",
		"https://api.mailgun.net/v3/mg.example.com/complaints?x=1": "mg.example.com complaints",
		"/v3/mg.example.com/whitelists/":                           "mg.example.com whitelists",
		"/v3/mg.example.com/events":                                "",
		"/v4/mg.example.com/bounces":                               "",
		"/v3/bounces":                                              "",
		"":                                                         "",
		"%zz":                                                      "",
	} {
		d, l, err := ParseURL(in)
		got := ""
		if err == nil {
			got = d + " " + l
		}
		if got != want {
			t.Errorf("ParseURL(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}

// TestLinkExpires: a link works until its expiry and not after; the
// checks refuse it before the store is read (Store is nil here).
func TestLinkExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := &Service{Key: []byte("k"), PublicURL: "https://salvo.example/", LinkTTL: time.Minute, Now: func() time.Time { return now }}
	u, err := url.Parse(s.Link("abc"))
	if err != nil || u.Path != "/v3/exports/abc/download" || u.Host != "salvo.example" {
		t.Fatalf("link %v, %v", u, err)
	}
	q := u.Query()
	if q.Get("signature") != s.sign("abc", q.Get("expires")) {
		t.Fatal("signature does not verify")
	}
	if _, err := s.Download(context.Background(), "abd", q.Get("expires"), q.Get("signature")); err != errBadLink {
		t.Fatalf("other id: %v, want refused", err)
	}
	now = now.Add(61 * time.Second)
	if _, err := s.Download(context.Background(), "abc", q.Get("expires"), q.Get("signature")); err != errBadLink {
		t.Fatalf("expired link: %v, want refused", err)
	}
	other := &Service{Key: []byte("other"), Now: s.Now}
	if other.sign("abc", q.Get("expires")) == q.Get("signature") {
		t.Fatal("a different key signs the same")
	}
}
