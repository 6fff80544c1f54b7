package web_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

// logRow is one row of the Logs table.
type logRow struct{ Event, Recipient, Subject string }

var (
	rowRE     = regexp.MustCompile(`(?s)<tr class="event" data-event="([a-z]+)">.*?class="rcpt">([^<]*)</td>.*?class="msg-link" href="[^"]*">([^<]*)</a>`)
	pageRE    = regexp.MustCompile(`<a href="([^"]+)" id="page-(newest|newer|older)">`)
	logsErrRE = regexp.MustCompile(`id="logs-error">([^<]*)<`)
)

// logsPage is a Logs page as a test reads it.
type logsPage struct {
	Status int
	Rows   []logRow
	Links  map[string]string // newest, newer, older
	Error  string
}

func (c *client) logs(query string) logsPage {
	c.t.Helper()
	p := c.get("/dashboard/logs?" + query)
	out := logsPage{Status: p.StatusCode, Links: map[string]string{}}
	for _, m := range rowRE.FindAllStringSubmatch(p.Body, -1) {
		out.Rows = append(out.Rows, logRow{Event: m[1], Recipient: html.UnescapeString(m[2]), Subject: html.UnescapeString(m[3])})
	}
	for _, m := range pageRE.FindAllStringSubmatch(p.Body, -1) {
		out.Links[m[2]] = html.UnescapeString(m[1])
	}
	if m := logsErrRE.FindStringSubmatch(p.Body); m != nil {
		out.Error = html.UnescapeString(m[1])
	}
	return out
}

func (p logsPage) String() string { return fmt.Sprintf("%d %q %+v", p.Status, p.Error, p.Rows) }

// TestLogsFilters sends messages at two times and finds them by
// recipient, event type, tag, time range and domain.
func TestLogsFilters(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	clock := testutil.NewClock(time.Now().UTC().Truncate(time.Minute))
	d := startDash(t, dashOptions{clock: clock, configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	for _, name := range []string{testDomain, "other.example.com"} {
		if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(subject, to, tag string) {
		m := mailgun.NewMessage("app@"+testDomain, subject, "body", to)
		if err := m.AddTag(tag); err != nil {
			t.Fatal(err)
		}
		d.waitEvent(t, d.send(t, d.Key, m), "delivered", "", to)
	}
	t0 := clock.Now()
	send("A", "ann@dest.example", "alpha")
	send("B", "bob@dest.example", "beta")
	clock.Advance(2 * time.Hour)
	send("C", "ann@dest.example", "beta")
	c := d.client(t)
	c.login(testEmail, testPassword)
	mid := url.QueryEscape(t0.Add(time.Hour).Format("2006-01-02T15:04"))
	cases := []struct{ query, want string }{
		{"", "C C B B A A"},
		{"domain=" + testDomain + "&recipient=ann%40dest.example", "C C A A"},
		{"recipient=ANN%40dest.example+OR+bob%40dest.example", "C C B B A A"},
		{"event=delivered", "C B A"},
		{"tag=beta", "C C B B"},
		{"tag=beta&event=accepted", "C B"},
		{"begin=" + mid, "C C"},
		{"end=" + mid, "B B A A"},
		{"begin=" + url.QueryEscape(t0.Format("2006-01-02T15:04")) + "&end=" + url.QueryEscape(t0.Format("2006-01-02T15:04")), "B B A A"},
		{"domain=other.example.com", ""},
	}
	for _, tc := range cases {
		p := c.logs(tc.query)
		var got []string
		for _, r := range p.Rows {
			got = append(got, r.Subject)
		}
		if p.Status != http.StatusOK || strings.Join(got, " ") != tc.want {
			t.Errorf("logs?%s = %v, want subjects %q", tc.query, p, tc.want)
		}
	}
	for _, r := range c.logs("event=delivered&recipient=bob%40dest.example").Rows {
		if r.Event != "delivered" || r.Recipient != "bob@dest.example" {
			t.Errorf("row %+v does not match the filters", r)
		}
	}
}

// TestLogsBadFilters: a filter the Events API refuses comes back as a
// 400 page that says why and keeps the form; unknown domains are 404s.
func TestLogsBadFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	c := f.client(t)
	c.login(testEmail, testPassword)
	cases := map[string]string{
		"recipient=%28a%40example.org": "invalid 'recipient' filter",
		"tag=a+OR":                     "invalid 'tags' filter",
		"event=NOT":                    "invalid 'event' filter",
		"begin=yesterday":              `From "yesterday" is not a date and time`,
		"begin=2025-01-02T10%3A00&end=2025-01-01T10%3A00": "The end of the time range is before its start.",
		"page=not-a-token": "invalid page token",
		"page=" + strings.Repeat("A", 40) + "&recipient=x": "invalid page token",
	}
	for query, want := range cases {
		p := c.logs(query)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Error, want) || len(p.Rows) != 0 {
			t.Errorf("logs?%s = %v, want 400 %q", query, p, want)
		}
	}
	if p := c.get("/dashboard/logs?recipient=%28a%40example.org"); !strings.Contains(p.Body, `value="(a@example.org"`) {
		t.Error("the refused filter is not kept in the form")
	}
	for _, path := range []string{"/dashboard/logs?domain=nope.example.com", "/dashboard/queue?domain=nope.example.com"} {
		if p := c.get(path); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.StatusCode)
		}
	}
}

// TestLogsPaging walks 30 events 25 at a time, older and back.
func TestLogsPaging(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		d.send(t, d.Key, mailgun.NewMessage("app@"+testDomain, fmt.Sprintf("M%02d", i), "body", "x@example.org"))
	}
	c := d.client(t)
	c.login(testEmail, testPassword)
	subjects := func(p logsPage) string {
		var out []string
		for _, r := range p.Rows {
			out = append(out, r.Subject)
		}
		return strings.Join(out, " ")
	}
	var newest []string
	for i := 29; i >= 5; i-- {
		newest = append(newest, fmt.Sprintf("M%02d", i))
	}
	first := c.logs("event=accepted&limit=25")
	if subjects(first) != strings.Join(newest, " ") || first.Links["older"] == "" || first.Links["newer"] != "" {
		t.Fatalf("first page: %v %v", first, first.Links)
	}
	older := c.logs(strings.TrimPrefix(first.Links["older"], "/dashboard/logs?"))
	if subjects(older) != "M04 M03 M02 M01 M00" || older.Links["older"] != "" || older.Links["newer"] == "" || older.Links["newest"] == "" {
		t.Fatalf("second page: %v %v", older, older.Links)
	}
	back := c.logs(strings.TrimPrefix(older.Links["newer"], "/dashboard/logs?"))
	if subjects(back) != subjects(first) || back.Links["older"] == "" {
		t.Errorf("back to newer: %v %v", back, back.Links)
	}
	if again := c.logs(strings.TrimPrefix(back.Links["older"], "/dashboard/logs?")); subjects(again) != subjects(older) {
		t.Errorf("older again: %v", again)
	}
	if top := c.logs(strings.TrimPrefix(older.Links["newest"], "/dashboard/logs?")); subjects(top) != subjects(first) {
		t.Errorf("newest: %v", top)
	}
}

// TestQueuePage shows what waits per destination and why, per domain.
func TestQueuePage(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	for _, name := range []string{testDomain, "other.example.com"} {
		if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	c := d.client(t)
	c.login(testEmail, testPassword)
	if p := c.get("/dashboard/queue"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `id="queue-empty"`) {
		t.Fatalf("empty queue: %d\n%s", p.StatusCode, p.Body)
	}
	id := d.send(t, d.Key, mailgun.NewMessage("app@"+testDomain, "Q", "body", "t451-a@dest.example", "ok@dest.example"))
	d.waitEvent(t, id, "failed", "temporary", "t451-a@dest.example")
	// Each recipient has its own transaction: ok@ may still be in flight
	// when t451-a@'s failure is recorded; once delivered, only t451-a@ waits.
	d.waitEvent(t, id, "delivered", "", "ok@dest.example")
	row := regexp.MustCompile(`(?s)<tr class="destination" data-destination="dest.example">.*?class="waiting-count">(\d+)</td>.*?class="last-error">([^<]*)</td>`)
	for _, path := range []string{"/dashboard/queue", "/dashboard/queue?domain=" + testDomain} {
		p := c.get(path)
		m := row.FindStringSubmatch(p.Body)
		if p.StatusCode != http.StatusOK || m == nil || m[1] != "1" || !strings.Contains(m[2], "451") || !strings.Contains(m[2], "Mailbox busy") {
			t.Errorf("GET %s: %d %q\n%s", path, p.StatusCode, m, p.Body)
		}
	}
	if p := c.get("/dashboard/queue?domain=other.example.com"); !strings.Contains(p.Body, `id="queue-empty"`) {
		t.Error("another domain's queue shows this domain's recipients")
	}
}

// TestQueuePageDeadDestination: when the only destination (the smarthost)
// refuses connections, the queue page says the destination is down and
// until when, and why each recipient waits.
func TestQueuePageDeadDestination(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = dead }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	c := d.client(t)
	c.login(testEmail, testPassword)
	id := d.send(t, d.Key, mailgun.NewMessage("app@"+testDomain, "Q", "body", "someone@dest.example"))
	d.waitEvent(t, id, "failed", "temporary", "someone@dest.example")
	row := regexp.MustCompile(`(?s)<tr class="destination" data-destination="dest.example">.*?destination-state" title="([^"]*)">down: backing-off until.*?class="last-error">([^<]*)</td>`)
	p := c.get("/dashboard/queue")
	m := row.FindStringSubmatch(p.Body)
	if p.StatusCode != http.StatusOK || m == nil || !strings.Contains(m[1], "refused") || !strings.Contains(m[2], "destination unreachable") {
		t.Fatalf("GET /dashboard/queue: %d %q\n%s", p.StatusCode, m, p.Body)
	}
}
