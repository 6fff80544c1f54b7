package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

const suppressDest = "dest.test"

// allowlist adds an address or a domain (field) to senderDomain's allowlist.
func (e *deliveryEnv) allowlist(field, value string) {
	e.t.Helper()
	e.App.Call(e.t, http.MethodPost, "/v3/"+senderDomain+"/whitelists", e.App.Key,
		testutil.Form(url.Values{field: {value}})).Want(e.t, http.StatusOK)
}

// queued returns the recipients of a message still in the queue.
func (e *deliveryEnv) queued(msgID string) []string {
	e.t.Helper()
	var st mgapi.QueueStatus
	e.App.Call(e.t, http.MethodGet, "/v3/"+senderDomain+"/queue?message-id="+url.QueryEscape(msgID), e.App.Key,
		testutil.NoBody).Want(e.t, http.StatusOK).Decode(e.t, &st)
	var out []string
	for _, w := range st.Message.Waiting {
		out = append(out, w.Recipient)
	}
	slices.Sort(out)
	return out
}

// wantSuppressed fails unless f is a 605 drop for reason.
func wantSuppressed(t *testing.T, f *events.Failed, reason, text string) {
	t.Helper()
	if f.Severity != "permanent" || f.Reason != reason || f.DeliveryStatus.Code != 605 ||
		f.DeliveryStatus.Message != text {
		t.Fatalf("failed event of %s = %s/%s %+v, want permanent/%s 605 %q", f.Recipient, f.Severity, f.Reason,
			f.DeliveryStatus, reason, text)
	}
}

// TestSuppressedAtAccept: recipients on a list are dropped in the accept
// transaction (no queue job; accepted then failed 605), tag-level
// unsubscribes apply to messages with that tag only, and the allowlist
// overrides a bounce. Only the others reach the fake MX.
func TestSuppressedAtAccept(t *testing.T) {
	t.Parallel()
	forEachStore(t, suppressDest, func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		at := func(local string) string { return local + "@" + suppressDest }
		must(t, e.MG.AddBounce(ctxb, at("gone"), "550", "No such user"), "AddBounce")
		must(t, e.MG.CreateUnsubscribe(ctxb, at("reader"), "news"), "CreateUnsubscribe news")
		must(t, e.MG.CreateUnsubscribe(ctxb, at("quit"), ""), "CreateUnsubscribe *")
		must(t, e.MG.CreateComplaint(ctxb, at("angry")), "CreateComplaint")
		must(t, e.MG.AddBounce(ctxb, at("trusted"), "550", "once bounced"), "AddBounce trusted")
		e.allowlist("address", at("trusted"))

		m := e.message(at("gone"), at("reader"), at("quit"), at("angry"), at("trusted"), at("ok"))
		must(t, m.AddTag("News"), "AddTag")
		m.SetDeliveryTime(e.Clock.Now().Add(time.Hour))
		id := e.send(m)
		// Nothing was delivered yet: the drops happened at accept.
		if q := e.queued(id); !slices.Equal(q, []string{at("ok"), at("trusted")}) {
			t.Fatalf("queued recipients = %v, want only ok and trusted", q)
		}
		evs := e.events(id)
		seen := map[string][]string{}
		for _, ev := range evs {
			switch x := ev.(type) {
			case *events.Accepted:
				seen[x.Recipient] = append(seen[x.Recipient], "accepted")
			case *events.Failed:
				seen[x.Recipient] = append(seen[x.Recipient], "failed")
				switch x.Recipient {
				case at("gone"):
					wantSuppressed(t, x, "suppress-bounce", "Not delivering to previously bounced address")
				case at("reader"), at("quit"):
					wantSuppressed(t, x, "suppress-unsubscribe", "Not delivering to unsubscribed address")
				case at("angry"):
					wantSuppressed(t, x, "suppress-complaint", "Not delivering to a user who marked your messages as spam")
				default:
					t.Fatalf("unexpected failed event for %s", x.Recipient)
				}
			}
		}
		for _, r := range []string{"gone", "reader", "quit", "angry"} {
			if !slices.Equal(seen[at(r)], []string{"accepted", "failed"}) {
				t.Fatalf("events of %s = %v, want accepted then failed", r, seen[at(r)])
			}
		}

		e.advance(time.Hour)
		o := e.waitOutcomes(id, 6)
		if len(o.Delivered) != 2 {
			t.Fatalf("outcomes %s; want ok and trusted delivered", o)
		}
		// A message without the tag reaches the tag-level unsubscriber.
		other := e.message(at("reader"))
		must(t, other.AddTag("promo"), "AddTag")
		e.waitDelivered(e.send(other), 1)
		var rcpts []string
		for _, got := range mx.Messages() {
			rcpts = append(rcpts, got.To...)
		}
		slices.Sort(rcpts)
		if !slices.Equal(rcpts, []string{at("ok"), at("reader"), at("trusted")}) {
			t.Fatalf("the MX received mail for %v, want ok, trusted (first message) and reader (second)", rcpts)
		}
	})
}

// TestSuppressedBeforeDelivery: an address suppressed after its message
// was accepted is still not delivered.
func TestSuppressedBeforeDelivery(t *testing.T) {
	t.Parallel()
	forEachStore(t, suppressDest, func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		rcpt := "late@" + suppressDest
		m := e.message(rcpt)
		m.SetDeliveryTime(e.Clock.Now().Add(time.Hour))
		id := e.send(m)
		if q := e.queued(id); len(q) != 1 {
			t.Fatalf("queued = %v, want the recipient", q)
		}
		must(t, e.MG.AddBounce(ctxb, rcpt, "", ""), "AddBounce")
		e.advance(time.Hour)
		f := e.waitFailed(id, "permanent", "suppress-bounce")
		wantSuppressed(t, f, "suppress-bounce", "Not delivering to previously bounced address")
		if f.DeliveryStatus.AttemptNo != 1 {
			t.Fatalf("attempt-no = %d, want 1", f.DeliveryStatus.AttemptNo)
		}
		if n := len(mx.Messages()); n != 0 || mx.Sessions() != 0 {
			t.Fatalf("the MX got %d messages in %d sessions, want none", n, mx.Sessions())
		}
		if q := e.queued(id); len(q) != 0 {
			t.Fatalf("still queued: %v", q)
		}
	})
}

// TestBounceFromPermanentFailure: a 550 at the MX adds the address to the
// bounces with the server's code and text, unless it (or its domain) is
// allowlisted.
func TestBounceFromPermanentFailure(t *testing.T) {
	t.Parallel()
	forEachStore(t, suppressDest, func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		other := "allowed.test"
		e.addMX(other, mx)
		e.allowlist("address", "p550kept@"+suppressDest)
		e.allowlist("domain", other)
		id := e.send(e.message("p550gone@"+suppressDest, "p550kept@"+suppressDest, "p550any@"+other))
		o := e.waitOutcomes(id, 3)
		if len(o.Failed) != 3 {
			t.Fatalf("outcomes %s, want three permanent failures", o)
		}
		b, err := e.MG.GetBounce(ctxb, "p550gone@"+suppressDest)
		must(t, err, "GetBounce")
		if b.Code != "550" || !strings.Contains(b.Error, "No such user") {
			t.Fatalf("bounce = %+v, want code 550 and the MX's text", b)
		}
		for _, kept := range []string{"p550kept@" + suppressDest, "p550any@" + other} {
			_, err := e.MG.GetBounce(ctxb, kept)
			if mailgun.GetStatusFromErr(err) != http.StatusNotFound {
				t.Fatalf("GetBounce(%s) = %v, want 404: it is allowlisted", kept, err)
			}
		}
		// The next message to the bounced address is dropped at accept.
		f := e.waitFailed(e.send(e.message("p550gone@"+suppressDest)), "permanent", "suppress-bounce")
		wantSuppressed(t, f, "suppress-bounce", "Not delivering to previously bounced address")
	})
}
