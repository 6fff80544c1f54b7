package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// tally counts events by type, failures by severity and reason.
type tally map[string]int

// eventTally counts every event of senderDomain through the Events API.
func (e *deliveryEnv) eventTally(tag string) tally {
	e.t.Helper()
	opts := &mailgun.ListEventOptions{ForceAscending: true, Limit: 300}
	if tag != "" {
		opts.Filter = map[string]string{"tags": tag}
	}
	it := e.MG.ListEvents(opts)
	out := tally{}
	var page []mailgun.Event
	for it.Next(context.Background(), &page) {
		for _, ev := range page {
			switch x := ev.(type) {
			case *events.Failed:
				out["failed."+x.Severity+"."+x.Reason]++
				out["failed"]++
			default:
				out[ev.GetName()]++
			}
		}
	}
	must(e.t, it.Err(), "ListEvents")
	return out
}

// statsTally adds up the stats of every bucket into a tally.
func statsTally(ss []mailgun.Stats) tally {
	out := tally{}
	for _, s := range ss {
		out["accepted"] += s.Accepted.Total
		out["delivered"] += s.Delivered.Total
		p, tmp := s.Failed.Permanent, s.Failed.Temporary
		out["failed"] += p.Total + tmp.Total
		out["failed.temporary.generic"] += tmp.Total - tmp.Espblock
		out["failed.permanent.bounce"] += p.Bounce
		out["failed.permanent.suppress-bounce"] += p.SuppressBounce
		out["failed.permanent.suppress-unsubscribe"] += p.SuppressUnsubscribe
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

func (t tally) equal(o tally) bool {
	for k, v := range t {
		if o[k] != v {
			return false
		}
	}
	for k, v := range o {
		if t[k] != v {
			return false
		}
	}
	return true
}

// mixedRun sends mail that is delivered, fails temporarily (twice),
// bounces, and is dropped for a bounce and an unsubscribe; it returns when
// every outcome is recorded.
func mixedRun(t *testing.T, e *deliveryEnv) {
	at := func(l string) string { return l + "@" + suppressDest }
	m := e.message(at("ok1"), at("ok2"))
	must(t, m.AddTag("Alpha"), "AddTag")
	e.waitOutcomes(e.send(m), 2)
	m = e.message(at("t451busy"))
	must(t, m.AddTag("beta"), "AddTag")
	busy := e.send(m)
	e.waitOutcomes(busy, 1)
	e.advance(11 * time.Minute)
	e.waitOutcomes(busy, 2)
	e.waitFailed(e.send(e.message(at("p550gone"))), "permanent", "bounce")
	e.waitFailed(e.send(e.message(at("p550gone"))), "permanent", "suppress-bounce")
	must(t, e.MG.CreateUnsubscribe(ctxb, at("unsub"), "alpha"), "CreateUnsubscribe")
	m = e.message(at("unsub"))
	must(t, m.AddTag("alpha"), "AddTag")
	e.waitFailed(e.send(m), "permanent", "suppress-unsubscribe")
}

// TestStatsAgreeWithEvents: after a mixed run the stats (domain, account,
// tag) and the metrics add up to the events the Events API shows.
func TestStatsAgreeWithEvents(t *testing.T) {
	t.Parallel()
	forEachStore(t, suppressDest, func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		start := e.Clock.Now()
		mixedRun(t, e)
		want := e.eventTally("")
		if want["delivered"] != 2 || want["failed.temporary.generic"] != 2 || want["failed.permanent.bounce"] != 1 ||
			want["failed.permanent.suppress-bounce"] != 1 || want["failed.permanent.suppress-unsubscribe"] != 1 || want["accepted"] != 6 {
			t.Fatalf("events of the run = %v; the run did not go as planned", want)
		}
		opts := &mailgun.GetStatOptions{Resolution: mailgun.ResolutionHour, Start: start.Add(-2 * time.Hour), End: e.Clock.Now().Add(time.Hour)}
		evs := []string{"accepted", "delivered", "failed"}
		ss, err := e.MG.GetStats(ctxb, evs, opts)
		must(t, err, "GetStats")
		if got := statsTally(ss); !got.equal(want) {
			t.Fatalf("stats say %v, events say %v", got, want)
		}
		for _, res := range []mailgun.Resolution{mailgun.ResolutionDay, mailgun.ResolutionMonth} {
			ss, err := e.MG.GetStats(ctxb, evs, &mailgun.GetStatOptions{Resolution: res, Duration: "2d"})
			must(t, err, "GetStats "+string(res))
			if got := statsTally(ss); !got.equal(want) {
				t.Fatalf("%s stats say %v, events say %v", res, got, want)
			}
		}
		var account mgapi.Stats
		e.App.Call(t, http.MethodGet, "/v3/stats/total?event=accepted&event=delivered&event=failed&duration=1d", e.App.Key,
			testutil.NoBody).Want(t, http.StatusOK).Decode(t, &account)
		var acc int64
		for _, s := range account.Stats {
			acc += s.Accepted.Total
		}
		if acc != int64(want["accepted"]) {
			t.Fatalf("account stats count %d accepted, events %d", acc, want["accepted"])
		}

		// Per tag: the tag's stats agree with the events carrying it.
		wantAlpha := e.eventTally("alpha")
		var tagStats struct {
			Tag   string          `json:"tag"`
			Stats []mailgun.Stats `json:"stats"`
		}
		e.App.Call(t, http.MethodGet, "/v3/"+senderDomain+"/tags/alpha/stats?event=accepted&event=delivered&event=failed&duration=1d&resolution=hour",
			e.App.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &tagStats)
		if got := statsTally(tagStats.Stats); tagStats.Tag != "alpha" || !got.equal(wantAlpha) || wantAlpha["accepted"] != 3 {
			t.Fatalf("alpha stats %v (tag %q), alpha events %v", got, tagStats.Tag, wantAlpha)
		}
		checkMetrics(t, e, want, start)
	})
}

// checkMetrics reads the run through ListMetrics, two items a page.
func checkMetrics(t *testing.T, e *deliveryEnv, want tally, start time.Time) {
	t.Helper()
	mg := mailgun.NewMailgun(senderDomain, e.App.Key)
	mg.SetAPIBase(e.App.URL + "/v1")
	it, err := mg.ListMetrics(mailgun.MetricsOptions{
		Start: mailgun.RFC2822Time(start.Add(-3 * time.Hour)), End: mailgun.RFC2822Time(e.Clock.Now().Add(time.Hour)),
		Resolution: mailgun.ResolutionHour, Dimensions: []string{"time"}, IncludeAggregates: true,
		Metrics:    []string{"accepted_count", "delivered_count", "failed_count", "permanent_failed_count", "delivered_rate"},
		Pagination: mailgun.MetricsPagination{Limit: 2},
	})
	must(t, err, "ListMetrics")
	var page mailgun.MetricsResponse
	var accepted, delivered, failed uint64
	items := 0
	for more := true; more; {
		more = it.Next(ctxb, &page)
		for _, item := range page.Items {
			items++
			accepted += *item.Metrics.AcceptedCount
			delivered += *item.Metrics.DeliveredCount
			failed += *item.Metrics.FailedCount
		}
	}
	must(t, it.Err(), "ListMetrics pages")
	if items < 4 || accepted != uint64(want["accepted"]) || delivered != uint64(want["delivered"]) || failed != uint64(want["failed"]) {
		t.Fatalf("metrics: %d items, accepted %d delivered %d failed %d; events %v", items, accepted, delivered, failed, want)
	}
	if a := page.Aggregates.Metrics; a.AcceptedCount == nil || *a.AcceptedCount != accepted || a.DeliveredRate != "66.67" {
		t.Fatalf("aggregates %+v, want accepted %d and delivered rate 2/3", a, accepted)
	}
}

// TestTagsSDK: tags made by o:tag, listed a page at a time by mailgun-go
// (whose iterator refuses a next link with a tag parameter), read, updated
// through both path styles, limited and deleted.
func TestTagsSDK(t *testing.T) {
	t.Parallel()
	forEachStore(t, suppressDest, func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		sent := e.Clock.Now().Truncate(time.Second)
		for _, tags := range [][]string{{"Alpha", "beta"}, {"gamma"}} {
			m := e.message("x@" + suppressDest)
			must(t, m.AddTag(tags...), "AddTag")
			e.send(m)
		}
		// Deliveries write events that (re)create their tags: let both
		// finish before deleting any.
		mx.WaitRecipients(t, 2, 30*time.Second)
		waitForEvents(t, e.App, senderDomain, "delivered", 2)
		it := e.MG.ListTags(&mailgun.ListTagOptions{Limit: 1})
		var names []string
		var page []mailgun.Tag
		for it.Next(ctxb, &page) {
			for _, tg := range page {
				names = append(names, tg.Value)
			}
		}
		must(t, it.Err(), "ListTags")
		if !slices.Equal(names, []string{"alpha", "beta", "gamma"}) {
			t.Fatalf("ListTags = %v, want alpha beta gamma", names)
		}
		it = e.MG.ListTags(&mailgun.ListTagOptions{Prefix: "g"})
		if !it.Next(ctxb, &page) || len(page) != 1 || page[0].Value != "gamma" {
			t.Fatalf("ListTags prefix g = %+v (%v)", page, it.Err())
		}
		tag, err := e.MG.GetTag(ctxb, "alpha")
		must(t, err, "GetTag")
		if tag.FirstSeen == nil || !tag.FirstSeen.Equal(sent) || !tag.LastSeen.Equal(sent) {
			t.Fatalf("GetTag = %+v, want first and last seen at %s", tag, sent)
		}
		lim, err := e.MG.GetTagLimits(ctxb, senderDomain)
		must(t, err, "GetTagLimits")
		if lim.Count != 3 || lim.Limit <= 3 {
			t.Fatalf("GetTagLimits = %+v", lim)
		}
		e.App.Call(t, http.MethodPut, "/v3/"+senderDomain+"/tags/alpha", e.App.Key,
			testutil.Form(url.Values{"description": {"First"}})).WantMessage(t, http.StatusOK, "Tag updated")
		e.App.Call(t, http.MethodPut, "/v3/"+senderDomain+"/tag?tag=beta&description=Second", e.App.Key,
			testutil.NoBody).WantMessage(t, http.StatusOK, "Tag updated")
		var w mgapi.Tag
		e.App.Call(t, http.MethodGet, "/v3/"+senderDomain+"/tag?tag=alpha", e.App.Key, testutil.NoBody).
			Want(t, http.StatusOK).Decode(t, &w)
		if w.Description != "First" {
			t.Fatalf("tag alpha = %+v", w)
		}
		tag, err = e.MG.GetTag(ctxb, "beta")
		must(t, err, "GetTag beta")
		if tag.Description != "Second" {
			t.Fatalf("tag beta = %+v", tag)
		}
		must(t, e.MG.DeleteTag(ctxb, "gamma"), "DeleteTag")
		_, err = e.MG.GetTag(ctxb, "gamma")
		wantSDKError(t, err, http.StatusNotFound, "Tag not found")
		e.App.Call(t, http.MethodDelete, "/v3/"+senderDomain+"/tag?tag=beta", e.App.Key, testutil.NoBody).
			WantMessage(t, http.StatusOK, "Tag deleted")
		lim, err = e.MG.GetTagLimits(ctxb, senderDomain)
		must(t, err, "GetTagLimits")
		if lim.Count != 1 {
			t.Fatalf("GetTagLimits after deleting two = %+v", lim)
		}
		e.App.Call(t, http.MethodGet, "/v3/"+senderDomain+"/stats/total", e.App.Key, testutil.NoBody).
			WantMessage(t, http.StatusBadRequest, "please provide at least one event: Missing mandatory parameter: event")
		e.App.Call(t, http.MethodGet, "/v3/"+senderDomain+"/stats/total?event=accepted&resolution=week", e.App.Key, testutil.NoBody).
			WantMessage(t, http.StatusBadRequest, "'resolution' parameter is invalid, valid values: 'month', 'day', 'hour'")
	})
}
