package webhooks

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// TestSchedule: after the n-th failed attempt the next comes after the
// n-th delay of docs/mailgun-contract.md §8.5 (the last one repeating), until MaxAge after the
// first attempt.
func TestSchedule(t *testing.T) {
	t.Parallel()
	first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	last, want := first, []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}
	for i, d := range want {
		next, ok := NextAttempt(Schedule, MaxAge, i+1, first, last)
		if !ok || next.Sub(last) != d {
			t.Fatalf("after attempt %d: next in %v (ok %v), want %v", i+1, next.Sub(last), ok, d)
		}
		last = next
	}
	// 5m+10m+15m+1h+2h = 3h30m; +4h = 7h30m, within 8h; the next 4h is not.
	if got := last.Sub(first); got != 7*time.Hour+30*time.Minute {
		t.Fatalf("the seventh attempt comes %v after the first", got)
	}
	if next, ok := NextAttempt(Schedule, MaxAge, 7, first, last); ok {
		t.Fatalf("after the seventh attempt another at %v; want the schedule over", next.Sub(first))
	}
	// A slow last attempt counts from when it was made.
	if _, ok := NextAttempt(Schedule, MaxAge, 1, first, first.Add(7*time.Hour+56*time.Minute)); ok {
		t.Fatal("a retry past MaxAge was scheduled")
	}
	if _, ok := NextAttempt(Schedule, MaxAge, 0, first, first); ok {
		t.Fatal("a retry scheduled before any attempt")
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind   string
		status int
		want   bool
	}{
		{"accepted", 500, true}, {"opened", 0, true}, {"permanent_fail", 404, true}, {"clicked", 301, true},
		{"accepted", 406, false}, {"temporary_fail", 406, false},
		{"delivered", 500, false}, {"delivered", 0, false},
	} {
		if got := Retryable(c.kind, c.status); got != c.want {
			t.Errorf("Retryable(%s, %d) = %v, want %v", c.kind, c.status, got, c.want)
		}
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ typ, severity, want string }{
		{"accepted", "", "accepted"}, {"delivered", "", "delivered"}, {"opened", "", "opened"},
		{"clicked", "", "clicked"}, {"unsubscribed", "", "unsubscribed"}, {"complained", "", "complained"},
		{"failed", "permanent", "permanent_fail"}, {"failed", "temporary", "temporary_fail"},
		{"failed", "", ""}, {"rejected", "", ""}, {"stored", "", ""}, {"list_uploaded", "", ""},
	} {
		if got := KindOf(c.typ, c.severity); got != c.want {
			t.Errorf("KindOf(%s, %s) = %q, want %q", c.typ, c.severity, got, c.want)
		}
		if c.want != "" && !ValidKind(c.want) {
			t.Errorf("%s is not a valid kind", c.want)
		}
	}
}

// wantReason checks a 400 with a "Reason" key.
func wantReason(t *testing.T, what string, err error) {
	t.Helper()
	we, ok := fault.As(err)
	if !ok || we.Kind != fault.Invalid || we.Key != "Reason" || we.Message == "" {
		t.Errorf("%s: error %v, want a 400 with a Reason", what, err)
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://example.com/", "http://127.0.0.1:8080/hook?x=1", "HTTPS://Example.COM"} {
		if err := ValidateURL(u); err != nil {
			t.Errorf("ValidateURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"example.com/hook", "/hook", "ftp://example.com/", "https://", "http://:80/",
		"https://user:pass@example.com/", "javascript:alert(1)", "https://exa mple.com/", "https://example.com/" + string(make([]byte, 2100))} {
		wantReason(t, "ValidateURL("+u[:min(len(u), 40)]+")", ValidateURL(u))
	}
}

func TestEdits(t *testing.T) {
	t.Parallel()
	const a, b, c, d = "https://a.example/", "https://b.example/", "https://c.example/", "https://d.example/"
	set := store.WebhookSet{"clicked": {a, b}, "opened": {a}}
	orig := store.WebhookSet{"clicked": {a, b}, "opened": {a}}
	mustSet := func(what string, got store.WebhookSet, err error, want store.WebhookSet) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, %v; want %v", what, got, err, want)
		}
	}
	got, err := Create(set, "delivered", []string{c, a})
	mustSet("Create", got, err, store.WebhookSet{"clicked": {a, b}, "opened": {a}, "delivered": {c, a}})
	_, err = Create(set, "clicked", []string{c})
	wantReason(t, "Create of an existing kind", err)
	_, err = Create(set, "bounce", []string{c})
	wantReason(t, "Create of a legacy kind", err)
	_, err = Create(set, "delivered", []string{a, b, c, d})
	wantReason(t, "Create with 4 URLs", err)
	_, err = Create(set, "delivered", []string{a, a})
	wantReason(t, "Create with a URL twice", err)
	_, err = Create(nil, "delivered", []string{"nope"})
	wantReason(t, "Create with a bad URL", err)
	got, err = Create(nil, "delivered", []string{a})
	mustSet("Create on a nil set", got, err, store.WebhookSet{"delivered": {a}})

	got, err = Update(set, "clicked", []string{d})
	mustSet("Update", got, err, store.WebhookSet{"clicked": {d}, "opened": {a}})
	if _, err = Update(set, "delivered", []string{d}); err != ErrNotFound {
		t.Errorf("Update of an unset kind: %v, want ErrNotFound", err)
	}
	got, err = Delete(set, "clicked")
	mustSet("Delete", got, err, store.WebhookSet{"opened": {a}})
	if _, err = Delete(set, "delivered"); err != ErrNotFound {
		t.Errorf("Delete of an unset kind: %v, want ErrNotFound", err)
	}

	got, err = AddURL(set, c, []string{"clicked", "delivered"})
	mustSet("AddURL", got, err, store.WebhookSet{"clicked": {a, b, c}, "opened": {a}, "delivered": {c}})
	_, err = AddURL(got, d, []string{"clicked"})
	wantReason(t, "AddURL to a full kind", err)
	_, err = AddURL(set, a, []string{"delivered", "opened"})
	wantReason(t, "AddURL of a URL the kind has", err)
	got, err = SetURL(set, a, []string{"delivered"})
	mustSet("SetURL", got, err, store.WebhookSet{"clicked": {b}, "delivered": {a}})
	if _, err = SetURL(set, c, []string{"delivered"}); err != ErrNotFound {
		t.Errorf("SetURL of an unknown URL: %v, want ErrNotFound", err)
	}
	got, err = RemoveURLs(set, []string{a, d})
	mustSet("RemoveURLs", got, err, store.WebhookSet{"clicked": {b}})
	if _, err = RemoveURLs(set, []string{d}); err != ErrNotFound {
		t.Errorf("RemoveURLs of unknown URLs: %v, want ErrNotFound", err)
	}
	if !reflect.DeepEqual(set, orig) {
		t.Fatalf("the edits changed the set they were given: %v", set)
	}
}

// TestBody: the POST body is the signature and the event data verbatim.
func TestBody(t *testing.T) {
	t.Parallel()
	data := []byte(`{"event":"opened","id":"x","message":{"headers":{"subject":"a \u003cb\u003e"}}}`)
	sig := Sign([]byte("key-1"), time.Unix(1529006854, 0))
	body := Body(sig, data)
	var got struct {
		Signature Signature       `json:"signature"`
		EventData json.RawMessage `json:"event-data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if got.Signature != sig || string(got.EventData) != string(data) || sig.Timestamp != "1529006854" || len(sig.Token) != 50 {
		t.Fatalf("body %s does not carry %+v and the data verbatim", body, sig)
	}
	if !Verify([]byte("key-1"), got.Signature) || Verify([]byte("key-2"), got.Signature) {
		t.Fatal("the signature does not verify with its key only")
	}
}
