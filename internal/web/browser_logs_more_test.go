package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/testutil"
)

var pixelRE = regexp.MustCompile(`src="(http://email\.[^"]+/o/[^"]+)"`)

// openPixel loads a tracking pixel as a phone's mail app would: the
// email.<domain> host is the app's HTTP listener.
func (d *dash) openPixel(t *testing.T, pixel string) {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "email.") {
				addr = d.HTTPAddr()
			}
			return dialer.DialContext(ctx, network, addr)
		}}}
	req, err := http.NewRequest(http.MethodGet, pixel, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pixel: %d", resp.StatusCode)
	}
}

// TestBrowserLogsEventDetails: an opened event's row links to its message
// (found by Message-ID: the event names no stored copy) and says the IP,
// client and device; every row's JSON unfolds and is the Events API's
// item; the histogram's bars count the search's events; the CSV and JSON
// exports hold the search's events, newest first. Desktop and phone.
func TestBrowserLogsEventDetails(t *testing.T) {
	t.Parallel()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	if st := d.apiStatus(t, http.MethodPut, "/v3/domains/"+testDomain+"/tracking/open", d.Key, url.Values{"active": {"yes"}}); st != http.StatusOK {
		t.Fatalf("open tracking: %d", st)
	}
	const ann = "ann@dest.example"
	m := mailgun.NewMessage("News <news@"+testDomain+">", "Weekly = news", "Hello.", ann, "p550-bo@dest.example")
	m.SetHtml("<html><body><p>Hello</p></body></html>")
	id := d.send(t, d.Key, m)
	d.waitEvent(t, id, "delivered", "", ann)
	d.waitEvent(t, id, "failed", "permanent", "p550-bo@dest.example")
	got := mx.Messages()
	if len(got) != 1 {
		t.Fatalf("MX got %d messages", len(got))
	}
	p, err := mail.Parse(got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	pix := pixelRE.FindStringSubmatch(p.HTML)
	if pix == nil {
		t.Fatalf("no open pixel in\n%s", p.HTML)
	}
	d.openPixel(t, pix[1])
	opened := d.waitEvent(t, id, "opened", "", ann)
	if opened.Storage != nil && opened.Storage.Key != "" {
		t.Log("the opened event names a storage key; the Message-ID link is not exercised")
	}
	all := d.events(t, id) // accepted ×2, delivered, failed, opened

	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", phoneW, phoneH}, {"desktop", desktopW, desktopH}} {
		b := loggedIn(t, d, size.w, size.h)
		b.do(size.name+": open Logs", chromedp.Navigate(d.Base+"/dashboard/logs?domain="+testDomain), chromedp.WaitVisible(chromedp.ID("events")))
		if size.name == "phone" {
			phoneFits(b, "the Logs page with its histogram")
			b.snap("logs-phone")
			continue
		}
		b.snap("logs-desktop")
		if n := eval[int](b, `document.querySelectorAll("#events tr.event").length`); n != len(all) {
			t.Fatalf("%d rows, want %d", n, len(all))
		}
		bars := eval[[]int](b, `[...document.querySelectorAll("#logs-histogram rect.bar")].map(r => +r.dataset.count)`)
		sum := 0
		for _, c := range bars {
			sum += c
		}
		if sum != len(all) || len(bars) == 0 {
			t.Errorf("histogram bars %v sum to %d, want %d events", bars, sum, len(all))
		}
		if got := b.text("#histogram-caption"); !strings.HasPrefix(got, strconv.Itoa(len(all))+" events, one bar per ") {
			t.Errorf("histogram caption = %q", got)
		}
		row := `#events tr[data-event="opened"]`
		if eng := b.text(row + " .engagement"); !strings.Contains(eng, "IP 127.0.0.1") || !strings.Contains(eng, "mobile") {
			t.Errorf("opened row engagement = %q, want the IP and the device", eng)
		}
		b.do("unfold the opened event's JSON", chromedp.Click(chromedp.CSS(row+" details.event-json summary")), chromedp.WaitVisible(chromedp.CSS(row+" details.event-json pre")))
		var shown map[string]any
		if err := json.Unmarshal([]byte(b.text(row+" details.event-json pre")), &shown); err != nil {
			t.Fatalf("the JSON shown is not JSON: %v", err)
		}
		if shown["event"] != "opened" || shown["id"] != opened.ID || shown["recipient"] != ann {
			t.Errorf("JSON shown = %v, want the opened event %s", shown, opened.ID)
		}
		b.snap("logs-json-desktop")
		b.do("open the opened event's message", loads(chromedp.Click(chromedp.CSS(row+" a.msg-link"))), chromedp.WaitVisible(chromedp.ID("message-subject")))
		if got := b.text("#message-id"); got != id {
			t.Errorf("the opened row led to %q, want %s", got, id)
		}
		b.noConsoleErrors()
	}

	c := d.client(t)
	c.login(testEmail, testPassword)
	q := url.Values{"domain": {testDomain}}
	pc := c.get("/dashboard/logs/export?format=csv&" + q.Encode())
	if pc.StatusCode != http.StatusOK || !strings.HasPrefix(pc.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(pc.Header.Get("Content-Disposition"), `attachment; filename="events-`+testDomain) {
		t.Fatalf("CSV export: %d %v", pc.StatusCode, pc.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(pc.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV export: %v\n%s", err, pc.Body)
	}
	if len(recs) != len(all)+1 || recs[0][0] != "timestamp" || recs[1][1] != "opened" || recs[1][14] != "127.0.0.1" {
		t.Fatalf("CSV export rows:\n%s", pc.Body)
	}
	for _, r := range recs[1:] {
		if r[4] != id || r[6] != "Weekly = news" {
			t.Errorf("CSV row %v: message-id or subject wrong", r)
		}
	}
	pj := c.get("/dashboard/logs/export?format=json&event=failed&" + q.Encode())
	var items []map[string]any
	if err := json.Unmarshal([]byte(pj.Body), &items); err != nil || pj.StatusCode != http.StatusOK {
		t.Fatalf("JSON export: %d %v\n%s", pj.StatusCode, err, pj.Body)
	}
	if len(items) != 1 || items[0]["event"] != "failed" || items[0]["recipient"] != "p550-bo@dest.example" {
		t.Errorf("JSON export of failed events = %v", items)
	}
	for _, bad := range []string{"format=xml&" + q.Encode(), "format=csv&domain=nope.example", "format=csv&begin=yesterday&" + q.Encode()} {
		if p := c.get("/dashboard/logs/export?" + bad); p.StatusCode/100 != 4 {
			t.Errorf("export ?%s: %d, want a 4xx", bad, p.StatusCode)
		}
	}
	if p := c.get("/dashboard/logs/" + testDomain + "/message?id=nope@example"); p.StatusCode != http.StatusNotFound {
		t.Errorf("message of an unknown Message-ID: %d", p.StatusCode)
	}
}
