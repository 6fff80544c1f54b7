package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

var listUnsubRE = regexp.MustCompile(`^<mailto:(u\+[a-z2-7]+@email\.` + regexp.QuoteMeta(testDomain) + `)>, <(http://email\.` +
	regexp.QuoteMeta(testDomain) + `/u/[A-Za-z0-9_-]+)>$`)

// postForm sends a form POST with a real client through the tracking host.
func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestUnsubscribeTracking: with unsubscribe tracking on, a message gets
// the domain's footers and RFC 2369/8058 List-Unsubscribe fields (under
// the DKIM signature); an RFC 8058 one-click POST unsubscribes with no
// page, once; %tag_unsubscribe_url% unsubscribes from the message's tags
// only, %mailing_list_unsubscribe_url% unsubscribes the list member;
// %unsubscribe_email% is filled; opened and unsubscribed events reach
// webhooks, which mailgun-go parses. On both stores.
func TestUnsubscribeTracking(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		var k struct {
			Key string `json:"http_signing_key"`
		}
		e.getJSON("/v5/accounts/http_signing_key", &k)
		hooks := testutil.StartWebhookReceiver(t, k.Key)
		if status, body := e.call(http.MethodPost, "/v4/domains/"+testDomain+"/webhooks", formBody(url.Values{
			"url": {hooks.URL}, "event_types": {"opened", "unsubscribed"}})); status != http.StatusOK {
			t.Fatalf("create webhook = %d %s", status, body)
		}
		e.setTracking("unsubscribe", url.Values{"active": {"yes"}})
		e.setTracking("open", url.Values{"active": {"yes"}})
		client := trackingClient(e.app)
		ctx := context.Background()

		// 1. Domain-wide: footers, headers, one-click POST.
		e.send(url.Values{"from": {"news@" + testDomain}, "to": {"bob@example.org"}, "subject": {"One"}, "o:tag": {"promo"},
			"html": {"<html><body><p>Hello</p></body></html>"}, "text": {"Hello. Reply to %unsubscribe_email% to stop."}})
		raw := e.mx.WaitRecipients(t, 1, 20*time.Second)[0].Data
		msg := e.delivered(1)
		lu := listUnsubRE.FindStringSubmatch(header(raw, "List-Unsubscribe"))
		if lu == nil || header(raw, "List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe fields:\n%s", raw)
		}
		if sig := header(raw, "DKIM-Signature"); !strings.Contains(strings.ToLower(sig), "list-unsubscribe") {
			t.Errorf("DKIM signature does not cover List-Unsubscribe: %s", sig)
		}
		if !strings.Contains(msg.HTML, `<p><a href="`+lu[2]+`">unsubscribe</a></p>`) ||
			!strings.Contains(msg.Text, "To unsubscribe click: <"+lu[2]+">") ||
			!strings.Contains(msg.Text, "Reply to "+lu[1]+" to stop.") {
			t.Fatalf("footers or %%unsubscribe_email%% missing:\nHTML %s\nText %s", msg.HTML, msg.Text)
		}
		pix := regexp.MustCompile(`src="(http://email\.[^"]+/o/[^"]+)"`).FindStringSubmatch(msg.HTML)
		if pix == nil || strings.Index(msg.HTML, pix[0]) < strings.Index(msg.HTML, "unsubscribe</a>") {
			t.Fatalf("no pixel after the footer:\n%s", msg.HTML)
		}
		resp, err := client.Get(pix[1])
		if err != nil {
			t.Fatal(err)
		}
		gif, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || !strings.HasPrefix(string(gif), "GIF89a") ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
			t.Fatalf("pixel = %d %v", resp.StatusCode, resp.Header)
		}
		for range 2 { // one-click twice: one unsubscribe, one event
			if status, body := postForm(t, client, lu[2], url.Values{"List-Unsubscribe": {"One-Click"}}); status != 200 || body != "Unsubscribed\n" {
				t.Fatalf("one-click POST = %d %q", status, body)
			}
		}
		if s, err := e.app.Regional.Suppression(ctx, testDomain, store.Unsubscribes, "bob@example.org"); err != nil || strings.Join(s.Tags, ",") != "*" {
			t.Fatalf("bob's unsubscribe = %+v, %v", s, err)
		}
		if n := len(e.storeEvents("unsubscribed")); n != 1 {
			t.Fatalf("%d unsubscribed events after two one-click POSTs, want 1", n)
		}

		// 2. Tag-level: only the message's tags.
		e.send(url.Values{"from": {"news@" + testDomain}, "to": {"dave@example.org"}, "subject": {"Two"},
			"o:tag": {"Promo", "weekly"}, "html": {`<p><a href="%tag_unsubscribe_url%">stop these</a></p>`}})
		msg = e.delivered(2)
		tagURL := links(msg.HTML, "http://email."+testDomain+"/u/")
		if len(tagURL) != 2 { // the tag link and the footer's domain link
			t.Fatalf("unsubscribe links in %s", msg.HTML)
		}
		resp, err = client.Get(tagURL[0])
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), `id="unsubscribe"`) || !strings.Contains(string(page), "promo, weekly") {
			t.Fatalf("unsubscribe page = %d %s", resp.StatusCode, page)
		}
		if status, body := postForm(t, client, tagURL[0], nil); status != 200 || !strings.Contains(body, `id="done"`) {
			t.Fatalf("confirm = %d %s", status, body)
		}
		if s, err := e.app.Regional.Suppression(ctx, testDomain, store.Unsubscribes, "dave@example.org"); err != nil || strings.Join(s.Tags, ",") != "promo,weekly" {
			t.Fatalf("dave's unsubscribe = %+v, %v", s, err)
		}

		// 3. Mailing list: the member is unsubscribed from the list.
		const list = "news@" + testDomain
		if status, body := e.call(http.MethodPost, "/v3/lists", formBody(url.Values{"address": {list}})); status != 200 {
			t.Fatalf("create list = %d %s", status, body)
		}
		if status, body := e.call(http.MethodPost, "/v3/lists/"+list+"/members", formBody(url.Values{"address": {"carol@example.org"}})); status != 200 {
			t.Fatalf("add member = %d %s", status, body)
		}
		e.send(url.Values{"from": {"news@" + testDomain}, "to": {list}, "subject": {"Three"},
			"html": {`<p><a id="l" href="%mailing_list_unsubscribe_url%">leave the list</a></p>`}})
		msg = e.delivered(3)
		listURL := links(msg.HTML, "http://email."+testDomain+"/u/")
		if len(listURL) != 2 {
			t.Fatalf("unsubscribe links in %s", msg.HTML)
		}
		if status, _ := postForm(t, client, listURL[0], url.Values{"List-Unsubscribe": {"One-Click"}}); status != 200 {
			t.Fatalf("list one-click = %d", status)
		}
		var member struct {
			Member struct {
				Subscribed bool `json:"subscribed"`
			} `json:"member"`
		}
		e.getJSON("/v3/lists/"+list+"/members/carol@example.org", &member)
		if member.Member.Subscribed {
			t.Fatal("carol is still subscribed to the list")
		}
		if _, err := e.app.Regional.Suppression(ctx, testDomain, store.Unsubscribes, "carol@example.org"); err == nil {
			t.Fatal("a list unsubscribe added a domain unsubscribe")
		}

		// Webhooks: the open and the three unsubscribes, parsed by mailgun-go.
		posts := hooks.WaitPosts(t, 4, 30*time.Second)
		kinds := map[string]int{}
		for _, p := range posts {
			if !p.Verified || !p.Parsed {
				t.Errorf("webhook post %s: %s", p.Event, p.Problem)
			}
			kinds[p.Event]++
			var ed map[string]any
			_ = json.Unmarshal(p.EventData, &ed)
			if _, ok := ed["client-info"]; !ok {
				t.Errorf("%s webhook without client-info: %s", p.Event, p.EventData)
			}
		}
		if kinds["opened"] != 1 || kinds["unsubscribed"] != 3 {
			t.Fatalf("webhook posts by event: %v", kinds)
		}

		// Stats count (once the webhooks saw them) the open and the three unsubscribes.
		counts, err := e.app.Regional.StatCounts(ctx, store.StatQuery{Domains: []string{testDomain},
			Resolution: store.Daily, Start: time.Now().Add(-48 * time.Hour), End: time.Now().Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]int64{}
		for _, c := range counts {
			if c.Tag == "" {
				byName[c.Name] += c.N
			}
		}
		if byName["opened.all"] != 1 || byName["unique.opened"] != 1 || byName["unsubscribed.all"] != 3 {
			t.Fatalf("stats counters: %v", byName)
		}
	})
}

// TestUnsubscribeByMail: mail to the List-Unsubscribe mailto: address
// (%unsubscribe_email%) at the node's MX unsubscribes the recipient
// (RFC 2369); a forged address is refused at RCPT.
func TestUnsubscribeByMail(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	e.setTracking("unsubscribe", url.Values{"active": {"yes"}})
	e.send(url.Values{"from": {"news@" + testDomain}, "to": {"erin@example.org"}, "subject": {"Hi"}, "text": {"Hello"}})
	raw := e.mx.WaitRecipients(t, 1, 20*time.Second)[0].Data
	lu := listUnsubRE.FindStringSubmatch(header(raw, "List-Unsubscribe"))
	if lu == nil {
		t.Fatalf("no List-Unsubscribe in\n%s", raw)
	}
	local, host, _ := strings.Cut(lu[1], "@")
	forged := local[:len(local)-3] + "aaa@" + host
	c := dialSMTP(t, e.app.MXAddr(), "plain")
	defer c.Close()
	if _, err := submit(c, "erin@example.org", []string{forged}, "Subject: unsubscribe\r\n\r\nplease\r\n"); err == nil {
		t.Fatal("a forged unsubscribe address was accepted")
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := submit(c, "erin@example.org", []string{lu[1]}, "Subject: unsubscribe\r\n\r\nplease\r\n"); err != nil {
		t.Fatalf("mail to %s: %v", lu[1], err)
	}
	s, err := e.app.Regional.Suppression(context.Background(), testDomain, store.Unsubscribes, "erin@example.org")
	if err != nil || strings.Join(s.Tags, ",") != "*" {
		t.Fatalf("erin's unsubscribe = %+v, %v", s, err)
	}
	if n := len(e.storeEvents("unsubscribed")); n != 1 {
		t.Fatalf("%d unsubscribed events, want 1", n)
	}
}
