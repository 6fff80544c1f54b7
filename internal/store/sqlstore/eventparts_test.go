package sqlstore_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
)

// TestSplitEvent cuts real events: the run is the message-level members
// from "message" on, the rest stays a JSON object without them, and
// joining gives back the same bytes.
func TestSplitEvent(t *testing.T) {
	t.Parallel()
	mi := &events.MessageInfo{Domain: "a.com", StorageKey: "k", StorageURL: "https://x/k", MessageID: "m@a.com",
		From: "s@a.com", To: strings.Repeat("someone@example.com, ", 50), Subject: "hi", Size: 10,
		Tags: []string{"t"}, UserVariables: map[string]any{"v": "1"}, Method: "http", Sender: "s@a.com"}
	at := time.Unix(1700000000, 123000)
	ds := mgapi.DeliveryStatus{Code: 250, Message: "OK"}
	for _, e := range [][]byte{
		events.NewAccepted(mi, "r@x.com", nil, at).Data,
		events.NewDelivered(mi, "r@x.com", nil, ds, at).Data,
		events.NewFailed(mi, "r@x.com", nil, events.Permanent, events.ReasonBounce, ds, at).Data,
		events.NewEngagement(mi, events.Clicked, "r@x.com", events.Engagement{IP: "192.0.2.1", URL: "https://l"}, at).Data,
	} {
		rest, run, cut := sqlstore.SplitEvent(e)
		if cut < 0 {
			t.Fatalf("no run cut from %s", e)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(rest, &top); err != nil || string(top["recipient"]) != `"r@x.com"` {
			t.Fatalf("rest %s is not the event's other members: %v", rest, err)
		}
		for _, k := range []string{"message", "tags", "campaigns", "user-variables"} {
			if _, ok := top[k]; ok || !bytes.Contains(run, []byte(`"`+k+`":`)) {
				t.Fatalf("%s not cut: rest %s, run %s", k, rest, run)
			}
		}
		if !bytes.HasPrefix(run, []byte(`,"message":{`)) {
			t.Fatalf("cut %q from %s", run, e)
		}
		if got := sqlstore.JoinEvent(rest, run, cut); !bytes.Equal(got, e) {
			t.Fatalf("joined\n%s\nwant\n%s", got, e)
		}
	}
	// Short runs and JSON that is not compact stay whole.
	mi.To = "r@x.com"
	for _, e := range [][]byte{
		events.NewAccepted(mi, "r@x.com", nil, at).Data,
		[]byte(`{"id":"x", "message":{"headers":{"to":"` + strings.Repeat("a", 600) + `"}}}`),
		[]byte(`{"message":{"headers":{"to":"` + strings.Repeat("a", 600) + `"}}}`),
	} {
		if rest, _, cut := sqlstore.SplitEvent(e); cut >= 0 || !bytes.Equal(rest, e) {
			t.Fatalf("cut at %d from %s", cut, e)
		}
	}
}

// FuzzSplitEvent: whatever the bytes, joining what was cut gives them back.
func FuzzSplitEvent(f *testing.F) {
	long := strings.Repeat(`x\"y`, 200)
	f.Add([]byte(`{"id":"a","message":{"headers":{"to":"` + long + `"}},"tags":["a"],"user-variables":{"k":[1,{"a":"}"}]},"envelope":{}}`))
	f.Add([]byte(`{"id":"a","message":"` + long + `","flags":{"x":true},"storage":{"url":"u"}}`))
	f.Add([]byte(`{"a":1,"message":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rest, run, cut := sqlstore.SplitEvent(data)
		if cut < 0 {
			if !bytes.Equal(rest, data) {
				t.Fatalf("uncut %q changed to %q", data, rest)
			}
			return
		}
		if got := sqlstore.JoinEvent(rest, run, cut); !bytes.Equal(got, data) {
			t.Fatalf("split %q at %d into %q and %q; joined %q", data, cut, rest, run, got)
		}
		if json.Valid(data) && !json.Valid(rest) {
			t.Fatalf("valid %q left invalid rest %q", data, rest)
		}
	})
}
