package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestWebhookDelivery: the events of a send reach a real receiver signed
// as docs/mailgun-contract.md §8.4 says (verified with the documented algorithm and with
// mailgun-go), as JSON whose event-data is exactly the Events API item,
// once each, and only for the kinds the URL subscribed to.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startHookEnv(t, pg, nil)
		w := e.receiver()
		e.hook(w.URL, "accepted", "delivered", "permanent_fail") // not temporary_fail
		e.send("ok@dest.example", "p550bad@dest.example", "t451later@dest.example")

		posts := w.WaitPosts(t, 5, hookWait)
		var temporary string
		for deadline := time.Now().Add(hookWait); temporary == "" && time.Now().Before(deadline); {
			for id, item := range e.eventItems() {
				if strings.Contains(string(item), `"severity":"temporary"`) {
					temporary = id
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if temporary == "" {
			t.Fatal("no temporary failure event")
		}
		posts = e.waitCursorPast(w, w.URL, temporary)
		postedOnce(t, posts)
		count := map[string]int{}
		for _, p := range posts {
			count[p.Event+"/"+p.Severity]++
		}
		want := map[string]int{"accepted/": 3, "delivered/": 1, "failed/permanent": 1}
		if len(posts) != 5 || len(count) != len(want) || count["accepted/"] != 3 || count["delivered/"] != 1 || count["failed/permanent"] != 1 {
			t.Fatalf("posts by event %v, want %v", count, want)
		}
		e.checkPosts(posts)
		e.settle(0, w.URL)
		if s := e.attempts(w.URL); s.Posted != 5 || s.Failures != 0 || s.Dropped != 0 || s.LastStatus != 200 ||
			len(s.Retrying) != 0 || strings.Join(s.EventTypes, ",") != "accepted,delivered,permanent_fail" {
			t.Fatalf("attempts view %+v", s)
		}
	})
}

// postedOnce fails t for each event posted more than once; it returns the
// ids posted.
func postedOnce(t *testing.T, posts []testutil.WebhookPost) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range posts {
		if seen[p.ID] {
			t.Errorf("event %s (%s) posted twice", p.ID, p.Event)
		}
		seen[p.ID] = true
	}
	return seen
}

// timestamps returns the signature timestamps of posts, as times.
func timestamps(t *testing.T, posts []testutil.WebhookPost) []time.Time {
	t.Helper()
	var out []time.Time
	for _, p := range posts {
		s, err := strconv.ParseInt(p.Signature.TimeStamp, 10, 64)
		if err != nil {
			t.Fatalf("signature timestamp %q", p.Signature.TimeStamp)
		}
		out = append(out, time.Unix(s, 0).UTC())
	}
	return out
}

// wantCounts fails t unless the receivers got n[i] posts each.
func wantCounts(t *testing.T, when string, ws []*testutil.WebhookReceiver, n ...int) {
	t.Helper()
	for i, w := range ws {
		if got := len(w.Posts()); got != n[i] {
			t.Fatalf("%s: receiver %d got %d posts, want %d", when, i, got, n[i])
		}
	}
}

// TestWebhookRetries: with a fake clock, a receiver answering 500 is
// retried on docs/mailgun-contract.md §8.5's schedule (5m, 10m, 15m, 1h, 2h, 4h) until 8 hours
// after the first attempt; one that times out is retried, and once it
// answers 406 never again; delivered events are not retried; the attempts
// view shows the last status and the next retry.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startHookEnv(t, pg, func(c *config.Config) { c.WebhookTimeout = time.Second })
		t0 := e.clock.Now()
		a, b, c, d := e.receiver(), e.receiver(), e.receiver(), e.receiver()
		all := []*testutil.WebhookReceiver{a, b, c, d}
		urls := []string{a.URL, b.URL, c.URL, d.URL}
		a.Respond(func(_ *http.Request, _ testutil.WebhookPost, nth int) int {
			return map[bool]int{true: 500, false: 200}[nth < 2]
		})
		b.Respond(func(*http.Request, testutil.WebhookPost, int) int { return 500 })
		c.Respond(func(r *http.Request, _ testutil.WebhookPost, nth int) int {
			if nth == 0 {
				<-r.Context().Done() // until the client gives up
				return 0
			}
			return 406
		})
		d.Respond(func(*http.Request, testutil.WebhookPost, int) int { return 500 })
		e.hook(a.URL, "accepted")
		e.hook(b.URL, "delivered")
		e.hook(c.URL, "accepted")
		e.hook(d.URL, "accepted")
		e.send("ok@dest.example")

		a.WaitPosts(t, 1, hookWait)
		b.WaitPosts(t, 1, hookWait)
		c.WaitPosts(t, 1, hookWait)
		d.WaitPosts(t, 1, hookWait)
		e.settle(0, urls...)
		sa, sb, sc := e.attempts(a.URL), e.attempts(b.URL), e.attempts(c.URL)
		if sa.Failures != 1 || sa.LastStatus != 500 || sa.LastError != "HTTP 500: answered 500" || len(sa.Retrying) != 1 ||
			sa.Retrying[0].Attempts != 1 || sa.Retrying[0].LastStatus != 500 || sa.Retrying[0].EventType != "accepted" ||
			!time.Time(sa.Retrying[0].NextAttemptAt).Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("attempts of the 500 URL after one attempt: %+v", sa)
		}
		if sb.Dropped != 1 || sb.Failures != 1 || len(sb.Retrying) != 0 || sb.LastStatus != 500 {
			t.Fatalf("attempts of the URL failing a delivered event: %+v", sb)
		}
		if sc.LastStatus != 0 || !strings.Contains(sc.LastError, "no answer within 1s") || len(sc.Retrying) != 1 ||
			!time.Time(sc.Retrying[0].NextAttemptAt).Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("attempts of the URL that timed out: %+v", sc)
		}

		e.settle(5*time.Minute-time.Second, urls...)
		wantCounts(t, "a second before the first retry", all, 1, 1, 1, 1)
		e.settle(time.Second, urls...)
		wantCounts(t, "at the first retry", all, 2, 1, 2, 2)
		if sc := e.attempts(c.URL); sc.Posted != 0 || sc.Failures != 2 || sc.Dropped != 1 || len(sc.Retrying) != 0 || sc.LastStatus != 406 {
			t.Fatalf("attempts of the URL that timed out, then answered 406: %+v", sc)
		}
		if sa := e.attempts(a.URL); len(sa.Retrying) != 1 || sa.Retrying[0].Attempts != 2 ||
			!time.Time(sa.Retrying[0].NextAttemptAt).Equal(t0.Add(15*time.Minute)) {
			t.Fatalf("attempts of the 500 URL after two attempts: %+v", sa)
		}
		// The rest of the schedule: a succeeds at the third attempt, d
		// fails until its seventh, 7h30m after the first.
		for i, step := range []time.Duration{10 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour} {
			e.settle(step, urls...)
			wantCounts(t, "after step "+strconv.Itoa(i), all, 3, 1, 2, min(3+i, 7))
		}
		offsets := []time.Duration{0, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, 90 * time.Minute, 210 * time.Minute, 450 * time.Minute}
		for i, ts := range timestamps(t, d.Posts()) {
			if !ts.Equal(t0.Add(offsets[i])) {
				t.Errorf("attempt %d of the failing URL at +%v, want +%v", i+1, ts.Sub(t0), offsets[i])
			}
		}
		for i, ts := range timestamps(t, a.Posts()) {
			if !ts.Equal(t0.Add(offsets[i])) {
				t.Errorf("attempt %d of the 500-then-200 URL at +%v, want +%v", i+1, ts.Sub(t0), offsets[i])
			}
		}
		if sd := e.attempts(d.URL); sd.Dropped != 1 || sd.Failures != 7 || len(sd.Retrying) != 0 {
			t.Fatalf("attempts of the URL that always fails, at the end: %+v", sd)
		}
		if sa := e.attempts(a.URL); sa.Posted != 1 || sa.Failures != 2 || len(sa.Retrying) != 0 {
			t.Fatalf("attempts of the 500-then-200 URL, at the end: %+v", sa)
		}
		var posts []testutil.WebhookPost
		for _, w := range all {
			posts = append(posts, w.Posts()...)
		}
		e.checkPosts(posts)
	})
}

// TestWebhookSlowURL: a URL that does not answer holds at most its
// concurrency limit of POSTs and delays nobody else: another URL of the
// same domain gets every event meanwhile.
func TestWebhookSlowURL(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		const limit = 3
		e := startHookEnv(t, pg, func(c *config.Config) { c.WebhookConcurrency, c.WebhookTimeout = limit, 5*time.Minute })
		slow, fast := e.receiver(), e.receiver()
		release := make(chan struct{})
		var once sync.Once
		defer once.Do(func() { close(release) })
		var mu sync.Mutex
		inFlight, most := 0, 0
		slow.Respond(func(r *http.Request, _ testutil.WebhookPost, _ int) int {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return 200
		})
		e.hook(slow.URL, "accepted")
		e.hook(fast.URL, "accepted")
		var rcpts []string
		for i := range 20 {
			rcpts = append(rcpts, "r"+strconv.Itoa(i)+"@dest.example")
		}
		e.send(rcpts...)
		fast.WaitPosts(t, 20, hookWait)
		for deadline := time.Now().Add(hookWait); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := inFlight
			mu.Unlock()
			if n == limit {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d POSTs in flight to the slow URL, want its limit %d", n, limit)
			}
		}
		if n := len(slow.Posts()); n != 0 {
			t.Fatalf("the slow URL finished %d posts before being released", n)
		}
		once.Do(func() { close(release) })
		posts := slow.WaitPosts(t, 20, hookWait)
		mu.Lock()
		if most != limit {
			t.Errorf("at most %d POSTs were in flight to one URL, want the limit %d", most, limit)
		}
		mu.Unlock()
		e.checkPosts(append(posts, fast.Posts()...))
	})
}

// TestWebhookRestart: a node stopped while posting and started again on
// the same data resumes from its cursor: events written while it was down
// arrive, and nothing arrives twice.
func TestWebhookRestart(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startHookEnv(t, pg, nil)
		w := e.receiver()
		w.Respond(func(*http.Request, testutil.WebhookPost, int) int { time.Sleep(5 * time.Millisecond); return 200 })
		e.hook(w.URL, "accepted", "delivered")
		var rcpts []string
		for i := range 15 {
			rcpts = append(rcpts, "r"+strconv.Itoa(i)+"@dest.example")
		}
		e.send(rcpts...)
		w.WaitPosts(t, 5, hookWait)
		prev := e.app
		prev.Stop(t)
		stopped := len(w.Posts())

		// Events written while no node runs.
		ctx := context.Background()
		r, err := app.OpenRegional(ctx, &prev.Cfg)
		if err != nil {
			t.Fatal(err)
		}
		var offline []store.Event
		for i := range 5 {
			offline = append(offline, rawEvent(t, "offline-event-"+strconv.Itoa(i), "accepted", e.clock.Now()))
		}
		if err := r.AppendEvents(ctx, offline); err != nil {
			t.Fatal(err)
		}
		r.Close()

		e.start(prev)
		e.send(rcpts...)
		const total = 2*15*2 + 5 // accepted and delivered of every recipient, and the offline events
		w.WaitPosts(t, total, hookWait)
		e.settle(0, w.URL)
		posts := w.Posts()
		seen := postedOnce(t, posts)
		for _, ev := range offline {
			if !seen[ev.ID] {
				t.Errorf("event %s written while the node was down never came", ev.ID)
			}
		}
		if len(posts) != total {
			t.Fatalf("%d posts, want %d (%d before the restart)", len(posts), total, stopped)
		}
		e.checkPosts(posts)
	})
}

// rawEvent is an event of hookDomain made below the API: what the Events
// API will show is its Data.
func rawEvent(t testing.TB, id, typ string, now time.Time) store.Event {
	t.Helper()
	ev := mgapi.Event{ID: id, Event: typ, Timestamp: mgapi.EventTime(now), LogLevel: "info",
		Recipient: "ok@dest.example", Tags: []string{}, Campaigns: []mgapi.Campaign{}, UserVariables: map[string]any{},
		Message: &mgapi.EventMessage{Headers: mgapi.MessageHeaders{MessageID: id + "@" + hookDomain}, Attachments: []mgapi.AttachmentInfo{}}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return store.Event{ID: id, Domain: hookDomain, Type: typ, Timestamp: now.Truncate(time.Microsecond),
		MessageID: id + "@" + hookDomain, Recipient: ev.Recipient, Data: data}
}

// TestWebhookLateCommit (PostgreSQL): an event written by a transaction
// that stays open while later events commit is still posted once it
// commits; the outbox waits for it instead of moving past it.
func TestWebhookLateCommit(t *testing.T) {
	t.Parallel()
	e := startHookEnv(t, true, nil)
	w := e.receiver()
	e.hook(w.URL, "accepted", "opened")
	e.settle(0, w.URL) // the pipeline runs

	db, err := sql.Open("pgx", e.app.Cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	held := rawEvent(t, "held-open-event-000001", "opened", e.clock.Now())
	if _, err := tx.Exec(`INSERT INTO events (id, domain, type, severity, ts, message_id, recipient, data)
		VALUES ($1, $2, $3, '', $4, $5, $6, $7)`, held.ID, held.Domain, held.Type, held.Timestamp.UnixMicro(),
		held.MessageID, held.Recipient, string(held.Data)); err != nil {
		t.Fatal(err)
	}

	e.send("ok@dest.example") // its accepted event commits after the held one took its seq
	for deadline := time.Now().Add(hookWait); len(e.eventItems()) < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the accepted event did not show in the Events API")
		}
	}
	e.settle(0, w.URL)
	e.settle(0, w.URL)
	if n := len(w.Posts()); n != 0 {
		t.Fatalf("%d posts while an older transaction that wrote an event is open; moving on would skip its event", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	posts := w.WaitPosts(t, 2, hookWait)
	got := map[string]bool{}
	for _, p := range posts {
		got[p.Event] = true
		if p.Event == "opened" && p.ID != held.ID {
			t.Errorf("posted an opened event %s, want %s", p.ID, held.ID)
		}
	}
	if len(posts) != 2 || !got["opened"] || !got["accepted"] {
		t.Fatalf("posts %+v, want the held opened event and the accepted one", posts)
	}
	e.checkPosts(posts)
}

// TestWebhookTwoNodes (PostgreSQL): two nodes on one database, both
// accepting and delivering; one of them holds the URL's pipeline, and
// every event is posted exactly once.
func TestWebhookTwoNodes(t *testing.T) {
	t.Parallel()
	const secret = "two-nodes-share-this-secret"
	e := startHookEnv(t, true, func(c *config.Config) { c.Secret = secret })
	second := testutil.StartApp(t, testutil.AppOptions{
		Seams: app.Seams{Now: e.clock.Now},
		Configure: func(c *config.Config) {
			c.Smarthost, c.Secret, c.APIKey = e.mx.Addr, secret, e.app.Key
			c.DatabaseURL, c.GlobalDatabaseURL = e.app.Cfg.DatabaseURL, e.app.Cfg.GlobalDatabaseURL
		},
	})
	w := e.receiver()
	e.hook(w.URL, "accepted", "delivered")
	var rcpts []string
	for i := range 20 {
		rcpts = append(rcpts, "r"+strconv.Itoa(i)+"@dest.example")
	}
	e.send(rcpts...)
	first := e.app
	e.app = second
	e.mg.SetAPIBase(second.URL + "/v3")
	e.send(rcpts...)
	const total = 2 * 20 * 2
	w.WaitPosts(t, total, hookWait)
	var holder *testutil.TestApp
	for deadline := time.Now().Add(hookWait); holder == nil; time.Sleep(10 * time.Millisecond) {
		r1, r2 := first.Webhooks.Rounds(hookDomain, w.URL), second.Webhooks.Rounds(hookDomain, w.URL)
		switch {
		case r1 > 0 && r2 > 0:
			t.Fatal("both nodes run the pipeline of one URL")
		case r1 > 0:
			holder = first
		case r2 > 0:
			holder = second
		case time.Now().After(deadline):
			t.Fatal("no node runs the pipeline")
		}
	}
	e.app = holder
	e.settle(0, w.URL)
	posts := w.Posts()
	postedOnce(t, posts)
	if len(posts) != total {
		t.Fatalf("%d posts, want %d", len(posts), total)
	}
	e.checkPosts(posts)
}
