package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// hookDomain is the sending domain of the webhook delivery tests.
const hookDomain = "hooks.example.com"

// hookWait bounds every wait of the webhook tests (generous for -race on a
// busy machine); waits end as soon as their condition holds.
const hookWait = 60 * time.Second

// hookEnv is a node that delivers to a fake MX (smarthost) with a clock
// that stands still until the test moves it, hookDomain created, and the
// account's signing key.
type hookEnv struct {
	t     *testing.T
	app   *testutil.TestApp
	mx    *testutil.FakeMX
	mg    *mailgun.MailgunImpl
	clock *testutil.Clock
	key   string
	pg    bool
	conf  func(*config.Config)
}

func startHookEnv(t *testing.T, pg bool, configure func(*config.Config)) *hookEnv {
	t.Helper()
	e := &hookEnv{t: t, mx: testutil.StartFakeMX(t, testutil.MXOptions{}), pg: pg, conf: configure,
		clock: testutil.NewClock(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC))}
	e.start(nil)
	createDomain(t, e.app, hookDomain)
	var k struct {
		Key string `json:"http_signing_key"`
	}
	e.app.Call(t, http.MethodGet, "/v5/accounts/http_signing_key", e.app.Key, testutil.NoBody).Want(t, 200).Decode(t, &k)
	e.key = k.Key
	return e
}

// start starts the node; with prev it reopens prev's stores (a restart).
func (e *hookEnv) start(prev *testutil.TestApp) {
	e.app = testutil.StartApp(e.t, testutil.AppOptions{
		Postgres: e.pg && prev == nil,
		Seams:    app.Seams{Now: e.clock.Now},
		Configure: func(c *config.Config) {
			c.Smarthost = e.mx.Addr
			if prev != nil {
				c.DataDir, c.DatabaseURL, c.GlobalDatabaseURL = prev.Cfg.DataDir, prev.Cfg.DatabaseURL, prev.Cfg.GlobalDatabaseURL
				c.APIKey = prev.Key
			}
			if e.conf != nil {
				e.conf(c)
			}
		},
	})
	e.mg = mailgun.NewMailgun(hookDomain, e.app.Key)
	e.mg.SetAPIBase(e.app.URL + "/v3")
}

// receiver starts a webhook receiver that verifies with the account's key.
func (e *hookEnv) receiver() *testutil.WebhookReceiver {
	return testutil.StartWebhookReceiver(e.t, e.key)
}

// hook subscribes url to kinds through the v4 endpoint.
func (e *hookEnv) hook(u string, kinds ...string) {
	e.t.Helper()
	e.app.Call(e.t, http.MethodPost, "/v4/domains/"+hookDomain+"/webhooks", e.app.Key,
		testutil.Form(url.Values{"url": {u}, "event_types": kinds})).Want(e.t, http.StatusOK)
}

// send submits a plain message to rcpts through mailgun-go.
func (e *hookEnv) send(rcpts ...string) {
	e.t.Helper()
	m := mailgun.NewMessage("Sender <sender@"+hookDomain+">", "Hello", "Hello there", rcpts...)
	if _, _, err := e.mg.Send(context.Background(), m); err != nil {
		e.t.Fatalf("Send: %v", err)
	}
}

// eventItems returns the domain's Events API items by id, as raw JSON.
func (e *hookEnv) eventItems() map[string]json.RawMessage {
	e.t.Helper()
	out := map[string]json.RawMessage{}
	next := "/v3/" + hookDomain + "/events?ascending=yes&limit=300"
	for {
		var page struct {
			Items  []json.RawMessage `json:"items"`
			Paging mgapi.Paging      `json:"paging"`
		}
		e.app.Call(e.t, http.MethodGet, next, e.app.Key, testutil.NoBody).Want(e.t, 200).Decode(e.t, &page)
		if len(page.Items) == 0 {
			return out
		}
		for _, it := range page.Items {
			var ev struct{ ID string }
			_ = json.Unmarshal(it, &ev)
			out[ev.ID] = it
		}
		u, err := url.Parse(page.Paging.Next)
		if err != nil {
			e.t.Fatalf("paging link %q: %v", page.Paging.Next, err)
		}
		next = u.RequestURI()
	}
}

// checkPosts fails t unless every post is signed, parses, is JSON and
// carries exactly the Events API item of its event.
func (e *hookEnv) checkPosts(posts []testutil.WebhookPost) {
	e.t.Helper()
	items := e.eventItems()
	for _, p := range posts {
		if p.Problem != "" || !p.Verified || !p.Parsed {
			e.t.Errorf("post of %s %s: %s", p.Event, p.ID, p.Problem)
		}
		if p.ContentType != "application/json" {
			e.t.Errorf("post of %s: Content-Type %q", p.ID, p.ContentType)
		}
		item, ok := items[p.ID]
		if !ok {
			e.t.Errorf("post of %s %s: no such event in the Events API", p.Event, p.ID)
			continue
		}
		var a, b bytes.Buffer
		_ = json.Compact(&a, item)
		_ = json.Compact(&b, p.EventData)
		if a.String() != b.String() {
			e.t.Errorf("event-data of %s differs from the Events API item:\n%s\n%s", p.ID, b.String(), a.String())
		}
	}
}

// attempts reads the attempts view of one URL (beyond Mailgun).
func (e *hookEnv) attempts(u string) mgapi.WebhookURLState {
	e.t.Helper()
	var out mgapi.WebhookAttempts
	e.app.Call(e.t, http.MethodGet, "/v4/domains/"+hookDomain+"/webhooks/attempts", e.app.Key, testutil.NoBody).
		Want(e.t, 200).Decode(e.t, &out)
	for _, s := range out.URLs {
		if s.URL == u {
			return s
		}
	}
	e.t.Fatalf("attempts view has no %s: %+v", u, out)
	return mgapi.WebhookURLState{}
}

// settle advances the clock by d and waits until the pipelines of urls
// have each finished two rounds since, so that whatever was due at the new
// time has been posted and recorded.
func (e *hookEnv) settle(d time.Duration, urls ...string) {
	e.t.Helper()
	e.clock.Advance(d)
	start := map[string]uint64{}
	for _, u := range urls {
		start[u] = e.app.Webhooks.Rounds(hookDomain, u)
	}
	deadline := time.Now().Add(hookWait)
	for _, u := range urls {
		for e.app.Webhooks.Rounds(hookDomain, u) < start[u]+2 {
			if time.Now().After(deadline) {
				e.t.Fatalf("the pipeline of %s did not go round twice after the clock moved", u)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// waitCursorPast waits until the pipeline of u has moved past the event
// with id (so any POST of it is over), and returns the received posts.
func (e *hookEnv) waitCursorPast(w *testutil.WebhookReceiver, u, id string) []testutil.WebhookPost {
	e.t.Helper()
	deadline := time.Now().Add(hookWait)
	var pos *store.OutboxPos
	for time.Now().Before(deadline) {
		if pos == nil {
			evs, err := e.app.Regional.OutboxEvents(context.Background(), hookDomain, store.OutboxPos{}, 10000)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.ID == id {
					p := ev.Pos()
					pos = &p
				}
			}
		}
		if pos != nil {
			cs, err := e.app.Regional.WebhookCursors(context.Background(), hookDomain)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, c := range cs {
				if c.URL == u && !c.Pos.Less(*pos) {
					return w.Posts()
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("the pipeline of %s did not move past event %s", u, id)
	return nil
}
