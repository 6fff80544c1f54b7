package suppress

import (
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	bounce := store.Suppression{List: store.Bounces}
	allow := store.Suppression{List: store.Allowlist}
	unsub := func(tags ...string) store.Suppression { return store.Suppression{List: store.Unsubscribes, Tags: tags} }
	complaint := store.Suppression{List: store.Complaints}
	for _, c := range []struct {
		name string
		hits []store.Suppression
		tags []string
		want string
	}{
		{"nothing", nil, nil, ""},
		{"bounce", []store.Suppression{bounce}, nil, ReasonBounce},
		{"allowlist overrides a bounce", []store.Suppression{bounce, allow}, nil, ""},
		{"allowlist does not override an unsubscribe", []store.Suppression{allow, unsub("*")}, nil, ReasonUnsubscribe},
		{"unsubscribed from everything", []store.Suppression{unsub("*")}, []string{"x"}, ReasonUnsubscribe},
		{"unsubscribed from the message's tag", []store.Suppression{unsub("news")}, []string{"promo", "news"}, ReasonUnsubscribe},
		{"tags compare case-insensitively", []store.Suppression{unsub("News")}, []string{"news"}, ReasonUnsubscribe},
		{"unsubscribed from another tag", []store.Suppression{unsub("news")}, []string{"promo"}, ""},
		{"untagged message, tag unsubscribe", []store.Suppression{unsub("news")}, nil, ""},
		{"complaint", []store.Suppression{complaint}, nil, ReasonComplaint},
		{"bounce first", []store.Suppression{complaint, unsub("*"), bounce}, nil, ReasonBounce},
	} {
		if got := Decide(c.hits, c.tags); got.Reason != c.want {
			t.Errorf("%s: Decide = %q, want %q", c.name, got.Reason, c.want)
		}
	}
}

func TestRecordQuirks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := Record("d", store.Bounces, Input{Address: " Bob@Example.COM ", CreatedAt: "Mon, 01 Jan 0001 00:00:00 +0000"}, now)
	if err != nil || b.Code != "550" || b.Address != "bob@example.com" || !b.CreatedAt.Equal(now) {
		t.Fatalf("bounce with mailgun-go's empty fields = %+v, %v; want code 550, lower case, created now", b, err)
	}
	u, err := Record("d", store.Unsubscribes, Input{Address: "a@b.c", Tag: ""}, now)
	if err != nil || len(u.Tags) != 1 || u.Tags[0] != "*" {
		t.Fatalf("unsubscribe without a tag = %+v, %v; want [*]", u, err)
	}
	u, err = Record("d", store.Unsubscribes, Input{Address: "a@b.c", Tags: []string{"x", " y ", "x"}, CreatedAt: "1700000000"}, now)
	if err != nil || len(u.Tags) != 2 || u.CreatedAt.Unix() != 1700000000 {
		t.Fatalf("unsubscribe with tags = %+v, %v", u, err)
	}
	for _, bad := range []Input{{}, {Address: "nope"}, {Address: "a@b.c", Code: "5x0"}, {Address: "a@b.c", CreatedAt: "soon"}} {
		if _, err := Record("d", store.Bounces, bad, now); err == nil {
			t.Errorf("Record(%+v) accepted bad input", bad)
		}
	}
	for _, bad := range []Input{{}, {Address: "a@b.c", Domain: "b.c"}, {Domain: "nodot"}} {
		if _, err := Record("d", store.Allowlist, bad, now); err == nil {
			t.Errorf("allowlist Record(%+v) accepted bad input", bad)
		}
	}
	if _, err := Bulk("d", store.Bounces, make([]Input, MaxBatch+1), now); err == nil {
		t.Error("Bulk took more than MaxBatch records")
	}
}
