package e2e

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"
)

// eventsFixture is a domain with two batches of messages an hour apart
// (fake clock) and every kind of outcome:
//
//	t0:    a1 alice   tag alpha        accepted, delivered
//	       a2 p550bad tag beta         accepted, failed permanent
//	t0+1h: b1 bob     tags alpha,beta  accepted, delivered
//	       b2 t451    tag gamma        accepted, failed temporary
//	       b3 carol   no tag           accepted, delivered
type eventsFixture struct {
	*sendEnv
	t0, t1 time.Time
	ids    map[string]string // name → message id without brackets
}

func startEventsFixture(t *testing.T) *eventsFixture {
	t.Helper()
	f := &eventsFixture{sendEnv: startSendEnv(t, sendEnvOptions{}), ids: map[string]string{}}
	send := func(name, to string, tags ...string) {
		v := url.Values{"from": {"sender@" + testDomain}, "to": {to}, "subject": {"about " + name},
			"text": {"body of " + name}, "o:tag": tags}
		f.ids[name] = strings.Trim(f.send(v), "<>")
	}
	f.t0 = f.clock.Now()
	send("a1", "alice@dest.example", "alpha")
	send("a2", "p550bad@dest.example", "beta")
	f.waitEvents("", 4)
	f.clock.Advance(time.Hour)
	f.t1 = f.clock.Now()
	send("b1", "bob@dest.example", "alpha", "beta")
	send("b2", "t451slow@dest.example", "gamma")
	send("b3", "carol@dest.example")
	f.waitEvents("", 10)
	return f
}

// TestEventsThroughSDK reads events with mailgun-go: paging, filters,
// both directions, date ranges and polling.
func TestEventsThroughSDK(t *testing.T) {
	t.Parallel()
	f := startEventsFixture(t)
	ctx := context.Background()

	t.Run("pages until the empty page", func(t *testing.T) {
		it := f.mg.ListEvents(&mailgun.ListEventOptions{Limit: 3})
		var all, page []mailgun.Event
		pages := 0
		for it.Next(ctx, &page) {
			pages++
			if len(page) > 3 {
				t.Fatalf("page of %d events with limit 3", len(page))
			}
			all = append(all, page...)
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if pages != 4 || len(all) != 10 {
			t.Fatalf("%d pages, %d events; want 4 pages, 10 events", pages, len(all))
		}
		checkOrder(t, all, false)
		seen := map[string]bool{}
		for _, ev := range all {
			if seen[ev.GetID()] {
				t.Errorf("event %s returned twice", ev.GetID())
			}
			seen[ev.GetID()] = true
		}
	})

	t.Run("decoded types", func(t *testing.T) {
		var perm, temp *events.Failed
		for _, ev := range listAll(t, f.mg, &mailgun.ListEventOptions{Filter: map[string]string{"event": "failed"}}) {
			fl := ev.(*events.Failed)
			switch fl.Severity {
			case "permanent":
				perm = fl
			case "temporary":
				temp = fl
			}
		}
		if perm == nil || temp == nil {
			t.Fatalf("failed events: permanent %v temporary %v", perm, temp)
		}
		if perm.Recipient != "p550bad@dest.example" || perm.DeliveryStatus.Code != 550 || perm.Reason == "" ||
			perm.DeliveryStatus.EnhancedCode != "5.1.1" || !strings.Contains(perm.DeliveryStatus.Message, "No such user") {
			t.Errorf("permanent failure = %+v", perm)
		}
		if perm.Message.Headers.MessageID != f.ids["a2"] || perm.Message.Headers.Subject != "about a2" ||
			strings.Join(perm.Tags, ",") != "beta" || perm.Storage.URL == "" {
			t.Errorf("permanent failure message = %+v tags %v storage %+v", perm.Message, perm.Tags, perm.Storage)
		}
		if uv, ok := perm.UserVariables.(map[string]any); !ok || len(uv) != 0 {
			t.Errorf("permanent failure user-variables = %#v, want {}", perm.UserVariables)
		}
		if temp.DeliveryStatus.Code != 451 || temp.DeliveryStatus.RetrySeconds <= 0 || temp.DeliveryStatus.AttemptNo != 1 {
			t.Errorf("temporary failure status = %+v", temp.DeliveryStatus)
		}
	})

	t.Run("filters", func(t *testing.T) {
		cases := []struct {
			filter map[string]string
			want   []string // "name:event"
		}{
			{map[string]string{"event": "delivered"}, []string{"a1:delivered", "b1:delivered", "b3:delivered"}},
			{map[string]string{"recipient": "alice@dest.example"}, []string{"a1:accepted", "a1:delivered"}},
			{map[string]string{"message-id": f.ids["b2"]}, []string{"b2:accepted", "b2:failed"}},
			{map[string]string{"tags": "alpha"}, []string{"a1:accepted", "a1:delivered", "b1:accepted", "b1:delivered"}},
			{map[string]string{"event": "failed OR delivered", "tags": "NOT alpha"}, []string{"a2:failed", "b2:failed", "b3:delivered"}},
			{map[string]string{"event": "NOT (accepted OR delivered)", "severity": "permanent"}, []string{"a2:failed"}},
			{map[string]string{"subject": `"about b"`, "event": "accepted"}, []string{"b1:accepted", "b2:accepted", "b3:accepted"}},
		}
		for _, c := range cases {
			got := f.names(listAll(t, f.mg, &mailgun.ListEventOptions{Filter: c.filter}))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("filter %v = %v, want %v", c.filter, got, c.want)
			}
		}
	})

	t.Run("ascending and descending", func(t *testing.T) {
		asc := listAll(t, f.mg, &mailgun.ListEventOptions{Begin: f.t0.Add(-time.Minute), ForceAscending: true, Limit: 4})
		if len(asc) != 10 {
			t.Fatalf("ascending: %d events", len(asc))
		}
		checkOrder(t, asc, true)
		desc := listAll(t, f.mg, &mailgun.ListEventOptions{Begin: f.t1.Add(time.Hour), End: f.t0.Add(-time.Minute), Limit: 4})
		if len(desc) != 10 {
			t.Fatalf("descending (end before begin): %d events", len(desc))
		}
		checkOrder(t, desc, false)
		forced := listAll(t, f.mg, &mailgun.ListEventOptions{Begin: f.t1.Add(time.Hour), ForceDescending: true})
		if len(forced) != 10 {
			t.Fatalf("descending from begin: %d events", len(forced))
		}
		checkOrder(t, forced, false)
	})

	t.Run("begin and end as RFC 2822", func(t *testing.T) {
		mid := f.t0.Add(30 * time.Minute)
		later := f.names(listAll(t, f.mg, &mailgun.ListEventOptions{Begin: mid}))
		if len(later) != 6 || !allOf(later, "b") {
			t.Errorf("begin between the batches: %v, want the six events of batch b", later)
		}
		earlier := f.names(listAll(t, f.mg, &mailgun.ListEventOptions{Begin: f.t0.Add(-time.Minute), End: mid}))
		if len(earlier) != 4 || !allOf(earlier, "a") {
			t.Errorf("end between the batches: %v, want the four events of batch a", earlier)
		}
	})

	t.Run("begin and end as epoch", func(t *testing.T) {
		e := f.with(t)
		mid := float64(f.t0.Add(30*time.Minute).UnixMicro()) / 1e6
		q := url.Values{"begin": {strconv.FormatFloat(mid, 'f', 6, 64)}, "ascending": {"yes"}}
		if got := e.events(q); len(got) != 6 {
			t.Errorf("begin=%s: %d events, want 6", q.Get("begin"), len(got))
		}
		q = url.Values{"begin": {strconv.FormatInt(f.t0.Add(-time.Minute).Unix(), 10)},
			"end": {strconv.FormatFloat(mid, 'f', 3, 64)}}
		if got := e.events(q); len(got) != 4 {
			t.Errorf("begin=%s end=%s: %d events, want 4", q.Get("begin"), q.Get("end"), len(got))
		}
	})

	t.Run("PollEvents picks up new events", func(t *testing.T) {
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		poller := f.mg.PollEvents(&mailgun.ListEventOptions{Begin: f.t0.Add(-time.Minute), PollInterval: 100 * time.Millisecond})
		var page []mailgun.Event
		if !poller.Poll(pctx, &page) {
			t.Fatalf("first poll: %v", poller.Err())
		}
		if len(page) != 10 {
			t.Fatalf("first poll: %d events, want 10", len(page))
		}
		sent := make(chan string, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			_, id, err := f.mg.Send(ctx, mailgun.NewMessage("sender@"+testDomain, "late", "x", "dave@dest.example"))
			if err != nil {
				id = err.Error()
			}
			sent <- strings.Trim(id, "<>")
		}()
		var fresh []mailgun.Event
		for len(fresh) < 2 && poller.Poll(pctx, &page) {
			fresh = append(fresh, page...)
		}
		if poller.Err() != nil || len(fresh) != 2 {
			t.Fatalf("later polls: %d events, err %v", len(fresh), poller.Err())
		}
		id := <-sent
		for _, ev := range fresh {
			if msgID(ev) != id {
				t.Errorf("polled %s of %q, want message %q", ev.GetName(), msgID(ev), id)
			}
		}
	})
}

// names turns events into "name:event" labels, sorted.
func (f *eventsFixture) names(evs []mailgun.Event) []string {
	byID := map[string]string{}
	for name, id := range f.ids {
		byID[id] = name
	}
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, byID[msgID(ev)]+":"+ev.GetName())
	}
	sort.Strings(out)
	return out
}

func msgID(ev mailgun.Event) string {
	switch x := ev.(type) {
	case *events.Accepted:
		return x.Message.Headers.MessageID
	case *events.Delivered:
		return x.Message.Headers.MessageID
	case *events.Failed:
		return x.Message.Headers.MessageID
	}
	return ""
}

func allOf(names []string, prefix string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			return false
		}
	}
	return true
}

func checkOrder(t *testing.T, evs []mailgun.Event, ascending bool) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		a, b := evs[i-1].GetTimestamp(), evs[i].GetTimestamp()
		if (ascending && b.Before(a)) || (!ascending && b.After(a)) {
			t.Fatalf("events %d and %d out of order (ascending=%v): %s then %s", i-1, i, ascending, a, b)
		}
	}
}
