package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// trackingClient is a real HTTP client that reaches the node for any
// tracking host (email.<domain>:80), as DNS would with the CNAME in place,
// and follows redirects.
func trackingClient(ta *testutil.TestApp) *http.Client {
	appAddr := strings.TrimPrefix(ta.URL, "http://")
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "email.") {
				addr = appAddr
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64,
	}}
}

// setTracking turns a domain's tracking settings on through the API.
func (e *sendEnv) setTracking(kind string, v url.Values) {
	e.t.Helper()
	status, body := e.call(http.MethodPut, "/v3/domains/"+testDomain+"/tracking/"+kind, formBody(v))
	if status != http.StatusOK {
		e.t.Fatalf("PUT tracking/%s = %d %s", kind, status, body)
	}
}

// delivered waits for n messages at the fake MX and returns the last one, parsed.
func (e *sendEnv) delivered(n int) mail.Parsed {
	e.t.Helper()
	msgs := e.mx.WaitRecipients(e.t, n, 20*time.Second)
	p, err := mail.Parse(msgs[len(msgs)-1].Data)
	if err != nil {
		e.t.Fatalf("parse delivered message: %v", err)
	}
	return p
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// links returns the href values of an HTML document that start with prefix.
func links(doc, prefix string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(doc, -1) {
		if strings.HasPrefix(m[1], prefix) {
			out = append(out, m[1])
		}
	}
	return out
}

func clickEvents(t *testing.T, e *sendEnv) []mgapi.Event {
	t.Helper()
	var out []mgapi.Event
	for _, se := range e.storeEvents("clicked") {
		var ev mgapi.Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// TestClickTracking sends an HTML and text message with click tracking
// on, follows its rewritten link with a real HTTP client by the domain's
// tracking host and lands on the original URL, with one clicked event
// recorded; the same token under /t/ counts a second click (every click
// is recorded, as Mailgun does); a tampered or foreign token is a 404 and
// records nothing. Stats count the clicks. On both stores.
func TestClickTracking(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		landed := make(chan string, 10)
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			landed <- r.URL.RequestURI()
			_, _ = io.WriteString(w, "landed on "+r.URL.Path)
		}))
		t.Cleanup(target.Close)
		e.setTracking("click", url.Values{"active": {"yes"}})

		original := target.URL + "/page?a=1&b=caf%C3%A9"
		e.send(url.Values{"from": {"shop@" + testDomain}, "to": {"bob@example.org"}, "subject": {"Sale"},
			"o:tag":  {"sale"},
			"v:camp": {"spring"},
			"html": {`<html><body><p>Hi &amp; welcome</p><a href="` + strings.ReplaceAll(original, "&", "&amp;") +
				`">shop</a> <a href="mailto:help@example.com">help</a> <a href="#top">top</a></body></html>`},
			"text": {"Shop at " + original + " now."}})
		msg := e.delivered(1)
		tracked := links(msg.HTML, "http://email."+testDomain+"/c/")
		if len(tracked) != 1 || !strings.Contains(msg.HTML, `href="mailto:help@example.com"`) ||
			!strings.Contains(msg.HTML, `href="#top"`) || !strings.Contains(msg.HTML, "Hi &amp; welcome") {
			t.Fatalf("delivered HTML not rewritten as expected:\n%s", msg.HTML)
		}
		if strings.Contains(msg.Text, original) || !strings.Contains(msg.Text, "http://email."+testDomain+"/c/") {
			t.Fatalf("text part links not rewritten:\n%s", msg.Text)
		}
		if strings.Contains(tracked[0], "bob") || strings.Contains(tracked[0], "page") {
			t.Fatalf("tracking URL shows what it carries: %s", tracked[0])
		}

		client := trackingClient(e.app)
		resp, err := client.Get(tracked[0])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.String() != original || string(body) != "landed on /page" {
			t.Fatalf("following the link: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
		}
		if got := <-landed; got != "/page?a=1&b=caf%C3%A9" {
			t.Fatalf("the target got %s", got)
		}
		// Clicks are written in the background: wait for the event.
		e.waitEvents("clicked", 1)
		clicks := clickEvents(t, e)
		if len(clicks) != 1 {
			t.Fatalf("%d clicked events, want 1", len(clicks))
		}
		c := clicks[0]
		if c.URL != original || c.Recipient != "bob@example.org" || c.Message == nil || c.Message.Headers.MessageID == "" ||
			len(c.Tags) != 1 || c.Tags[0] != "sale" || c.UserVariables["camp"] != "spring" || c.IP != "127.0.0.1" ||
			c.ClientInfo == nil || c.ClientInfo.UserAgent != "Go-http-client/1.1" || c.ClientInfo.Bot != "generic" ||
			c.Geolocation == nil || c.Geolocation.Country != "Unknown" {
			t.Fatalf("clicked event = %+v", c)
		}

		// Tampered, truncated and made-up tokens: 404, nothing recorded,
		// no redirect anywhere.
		tok := tracked[0][strings.LastIndexByte(tracked[0], '/')+1:]
		flip := []byte(tok)
		flip[len(flip)/2] ^= 1
		noRedirect := *client
		noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for _, bad := range []string{
			"http://email." + testDomain + "/c/" + string(flip),
			"http://email." + testDomain + "/c/" + tok[:len(tok)-2],
			"http://email." + testDomain + "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"http://email." + testDomain + "/o/" + tok, // a click token is no pixel
			e.app.URL + "/t/c/" + string(flip),
		} {
			resp, err := noRedirect.Get(bad)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
				t.Errorf("GET %s = %d (Location %q), want 404", bad, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		// The same link again, under /t/ on the API's host: a second click.
		// Events are written in order, so once it is there, any event of
		// the bad tokens would be too.
		resp, err = noRedirect.Get(e.app.URL + "/t/c/" + tok)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != original {
			t.Fatalf("GET /t/c/… = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		e.waitEvents("clicked", 2)
		time.Sleep(100 * time.Millisecond)
		if n := len(clickEvents(t, e)); n != 2 {
			t.Fatalf("%d clicked events after two clicks and five bad tokens, want 2", n)
		}

		// The Events API serves them, and stats count them.
		evs := e.events(url.Values{"event": {"clicked"}})
		if len(evs) != 2 || evs[0].URL != original {
			t.Fatalf("events API clicked = %+v", evs)
		}
		counts, err := e.app.Regional.StatCounts(context.Background(), store.StatQuery{Domains: []string{testDomain},
			Resolution: store.Daily, Start: time.Now().Add(-48 * time.Hour), End: time.Now().Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var clicked int64
		for _, c := range counts {
			if c.Tag == "" && strings.HasPrefix(c.Name, "clicked") {
				clicked += c.N
			}
		}
		if clicked != 2 {
			t.Fatalf("stats count %d clicks, want 2 (%+v)", clicked, counts)
		}

		// o:tracking=no turns tracking off for one message.
		e.send(url.Values{"from": {"shop@" + testDomain}, "to": {"bob@example.org"}, "subject": {"Untracked"},
			"o:tracking": {"no"}, "html": {`<a href="` + target.URL + `/plain">plain</a>`}})
		if msg := e.delivered(2); !strings.Contains(msg.HTML, `href="`+target.URL+`/plain"`) {
			t.Fatalf("o:tracking=no message was rewritten:\n%s", msg.HTML)
		}
	})
}
