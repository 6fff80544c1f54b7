package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mail"
)

var pixelRE = regexp.MustCompile(`src="(http://email\.[^"]+/o/[^"]+)"`)

// TestClientsBatchEngagementEventsShowTheirCopy sends a batch with open
// and click tracking, opens and clicks each copy, and reads the events
// back through the Events API (issue 22, defect 5): every event of a
// recipient, opened and clicked as well as accepted and delivered, names
// only that recipient in message.headers.to, never the whole batch.
func TestClientsBatchEngagementEventsShowTheirCopy(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	rcpts := []string{"ann@example.org", "bob@example.org", "cat@example.org"}
	rv, _ := json.Marshal(map[string]any{rcpts[0]: map[string]string{"n": "1"}, rcpts[1]: map[string]string{"n": "2"}, rcpts[2]: map[string]string{"n": "3"}})
	e.send(url.Values{"from": {"news@" + testDomain}, "to": rcpts, "subject": {"Post"},
		"html":                {`<html><body><p>Hi %recipient.n%</p><a href="https://blog.example/post">read</a></body></html>`},
		"recipient-variables": {string(rv)}, "o:tag": {"bulk-email"},
		"o:tracking-opens": {"yes"}, "o:tracking-clicks": {"yes"}})

	client := trackingClient(e.app)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(u string) {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s = %d", u, resp.StatusCode)
		}
	}
	for _, m := range e.mx.WaitRecipients(t, 3, 20*time.Second) {
		p, err := mail.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		pixel := pixelRE.FindStringSubmatch(p.HTML)
		clicks := links(p.HTML, "http://email."+testDomain+"/c/")
		if pixel == nil || len(clicks) != 1 {
			t.Fatalf("copy for %s has no pixel or tracked link:\n%s", m.To, p.HTML)
		}
		get(pixel[1])
		get(clicks[0])
	}
	e.waitEvents("opened", 3)
	e.waitEvents("clicked", 3)

	evs := e.events(url.Values{"event": {"accepted OR delivered OR opened OR clicked"}})
	if len(evs) != 12 {
		t.Fatalf("%d events, want 12 (4 kinds × 3 recipients)", len(evs))
	}
	for _, ev := range evs {
		if ev.Message == nil || ev.Message.Headers.To != ev.Recipient {
			to := ""
			if ev.Message != nil {
				to = ev.Message.Headers.To
			}
			t.Errorf("%s event of %s: message.headers.to = %q, want only its recipient", ev.Event, ev.Recipient, to)
		}
	}
	// Nothing of the other copies is stored with an engagement event.
	for _, typ := range []string{"opened", "clicked"} {
		for _, se := range e.storeEvents(typ) {
			for _, r := range rcpts {
				if r != se.Recipient && strings.Contains(string(se.Data), r) {
					t.Errorf("stored %s event of %s names %s", typ, se.Recipient, r)
				}
			}
		}
	}
}
