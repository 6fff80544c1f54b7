package web_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

// statsSeries are the series of the Stats page.
var statsSeries = []string{"accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained"}

// dayCounts are counts by series and day (2006-01-02).
type dayCounts map[string]map[string]int

func (c dayCounts) add(series, day string, n int) {
	if c[series] == nil {
		c[series] = map[string]int{}
	}
	c[series][day] += n
}

func (c dayCounts) total(series string) int {
	n := 0
	for _, v := range c[series] {
		n += v
	}
	return n
}

// eventCounts counts the events of domain by type and UTC day through the
// Events API with mailgun-go.
func (d *dash) eventCounts(t *testing.T, into dayCounts, domain string) {
	t.Helper()
	mg := mailgun.NewMailgun(domain, d.Key)
	mg.SetAPIBase(d.Base + "/v3")
	it := mg.ListEvents(&mailgun.ListEventOptions{ForceAscending: true, Limit: 300})
	var page []mailgun.Event
	for it.Next(context.Background(), &page) {
		for _, e := range page {
			into.add(e.GetName(), e.GetTimestamp().UTC().Format(time.DateOnly), 1)
		}
	}
	if it.Err() != nil {
		t.Fatalf("ListEvents: %v", it.Err())
	}
}

// chartCounts reads the chart's points and the table's cells: each must
// say the same.
func (b *tab) chartCounts() dayCounts {
	b.t.Helper()
	type point struct {
		Series, Day string
		Value       int
	}
	points := eval[[]point](b, `[...document.querySelectorAll("#stats-chart g.series circle")].map(c =>
		({Series: c.parentElement.dataset.series, Day: c.dataset.day, Value: parseInt(c.dataset.value, 10)}))`)
	cells := eval[[]point](b, `[...document.querySelectorAll("#stats-table tr.stats-day td[data-event]")].map(td =>
		({Series: td.dataset.event, Day: td.parentElement.dataset.day, Value: parseInt(td.textContent, 10)}))`)
	chart, table := dayCounts{}, dayCounts{}
	for _, p := range points {
		chart.add(p.Series, p.Day, p.Value)
	}
	for _, p := range cells {
		table.add(p.Series, p.Day, p.Value)
	}
	if fmt.Sprint(chart) != fmt.Sprint(table) {
		b.t.Errorf("the chart says %v, the table %v", chart, table)
	}
	return chart
}

// checkCounts compares what the page shows on its days with the events.
func checkCounts(t *testing.T, what string, shown, events dayCounts) {
	t.Helper()
	for _, s := range statsSeries {
		days := slices.Sorted(maps.Keys(shown[s]))
		if len(days) == 0 {
			t.Errorf("%s: no %s points", what, s)
		}
		for _, day := range days {
			if shown[s][day] != events[s][day] {
				t.Errorf("%s: %s on %s shown as %d, the Events API has %d", what, s, day, shown[s][day], events[s][day])
			}
		}
	}
	for s, byDay := range events {
		for day, n := range byDay {
			if slices.Contains(statsSeries, s) && shown[s][day] != n {
				t.Errorf("%s: %d %s events on %s, shown %d", what, n, s, day, shown[s][day])
			}
		}
	}
}

// TestBrowserStats sends through two domains, then reads the Stats page
// for the whole account and for one domain on a phone-sized screen: the
// chart drawn in the page and its table give the Events API's counts.
func TestBrowserStats(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	const other = "other.example.com"
	for _, name := range []string{testDomain, other} {
		if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	from := "App <app@" + testDomain + ">"
	ids := map[string]string{
		d.send(t, d.Key, mailgun.NewMessage(from, "one", "hi", "ann@dest.example", "bob@dest.example")): "delivered",
		d.send(t, d.Key, mailgun.NewMessage(from, "two", "hi", "p550-carl@dest.example")):               "failed",
		d.send(t, d.Key, mailgun.NewMessage(from, "three", "hi", "t451-dan@dest.example")):              "failed",
	}
	for id, typ := range ids {
		for _, e := range d.events(t, id) {
			d.waitEvent(t, id, typ, "", e.Recipient)
		}
	}
	mg := mailgun.NewMailgun(other, d.Key)
	mg.SetAPIBase(d.Base + "/v3")
	if _, _, err := mg.Send(context.Background(), mailgun.NewMessage("App <app@"+other+">", "four", "hi", "eve@dest.example")); err != nil {
		t.Fatal(err)
	}
	otherEvents := dayCounts{}
	for deadline := time.Now().Add(waitTimeout); otherEvents.total("delivered") == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no delivered event within %v", other, waitTimeout)
		}
		otherEvents = dayCounts{}
		d.eventCounts(t, otherEvents, other)
	}

	domainEvents, allEvents := dayCounts{}, dayCounts{}
	d.eventCounts(t, domainEvents, testDomain)
	d.eventCounts(t, allEvents, testDomain)
	d.eventCounts(t, allEvents, other)
	if domainEvents.total("accepted") != 4 || domainEvents.total("delivered") != 2 || domainEvents.total("failed") != 2 ||
		allEvents.total("accepted") != 5 {
		t.Fatalf("events of %s: %v; of both domains: %v", testDomain, domainEvents, allEvents)
	}
	today := time.Now().UTC().Format(time.DateOnly)

	b := loggedIn(t, d, phoneW, phoneH)
	b.openNav()
	b.do("open Stats", chromedp.WaitVisible(chromedp.ID("who")), loads(chromedp.Click(chromedp.CSS(`a[href="/dashboard/stats"]`))),
		chromedp.WaitVisible(chromedp.ID("stats-chart")))
	if n := eval[int](b, `document.querySelectorAll("#stats-table tr.stats-day").length`); n != 7 {
		t.Errorf("the default range has %d days, want 7", n)
	}
	if got := eval[string](b, `document.querySelector("#stats-table tr.stats-day:last-child").dataset.day`); got != today {
		t.Errorf("the range ends on %s, want today %s", got, today)
	}
	checkCounts(t, "every domain", b.chartCounts(), allEvents)
	if n := eval[int](b, `document.querySelectorAll("#stats-chart polyline").length`); n != len(statsSeries) {
		t.Errorf("%d lines, want %d", n, len(statsSeries))
	}
	phoneFits(b, "the Stats page")

	b.do("choose the domain", chromedp.SetValue(chromedp.ID("stats-domain"), testDomain),
		loads(chromedp.Click(chromedp.ID("stats-show"))), chromedp.WaitVisible(chromedp.ID("stats-chart")))
	checkCounts(t, testDomain, b.chartCounts(), domainEvents)
	if got := b.text(`#stats-table tfoot td[data-event="failed"]`); got != "2 (1 permanent, 1 temporary)" {
		t.Errorf("failed total = %q", got)
	}
	if got := b.text(`#stats-rates td[data-event="delivered"]`); !strings.HasPrefix(got, "50") || !strings.HasSuffix(got, "%") {
		t.Errorf("delivered rate = %q, want 50 %%", got)
	}
	b.snap("stats-daily-phone")
	for _, res := range []struct {
		value string
		rows  int
		key   string
	}{{"hour", 7 * 24, "2006-01-02T15:04"}, {"month", 1, "2006-01"}} {
		b.do("choose "+res.value+"ly", chromedp.SetValue(chromedp.ID("stats-resolution"), res.value),
			loads(chromedp.Click(chromedp.ID("stats-show"))), chromedp.WaitVisible(chromedp.ID("stats-chart")))
		if n := eval[int](b, `document.querySelectorAll("#stats-table tr.stats-day").length`); n < res.rows || n > res.rows+1 {
			t.Errorf("%s: %d rows, want %d", res.value, n, res.rows)
		}
		now := time.Now().UTC()
		last := eval[string](b, `document.querySelector("#stats-table tr.stats-day:last-child").dataset.day`)
		if res.value == "month" && last != now.Format(res.key) {
			t.Errorf("%s: last row %s, want %s", res.value, last, now.Format(res.key))
		}
		if got := b.text(`#stats-table tfoot td[data-event="accepted"]`); got != "4" {
			t.Errorf("%s: accepted total = %q, want 4", res.value, got)
		}
		if n := eval[int](b, `document.querySelectorAll("#stats-chart polyline").length`); n != len(statsSeries) {
			t.Errorf("%s: %d lines, want %d", res.value, n, len(statsSeries))
		}
		phoneFits(b, "the Stats page by "+res.value)
	}
	b.do("hourly over 40 days", chromedp.SetValue(chromedp.ID("stats-resolution"), "hour"),
		chromedp.SetValue(chromedp.ID("stats-from"), time.Now().UTC().AddDate(0, 0, -40).Format(time.DateOnly)),
		loads(chromedp.Click(chromedp.ID("stats-show"))), chromedp.WaitVisible(chromedp.ID("stats-error")))
	if got := b.text("#stats-error"); !strings.Contains(got, "the most the hourly view shows") {
		t.Errorf("hourly over 40 days: %q", got)
	}
	b.noConsoleErrors()
}
