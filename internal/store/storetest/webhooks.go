package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var webhookTests = []regionalTest{
	{"RoundTrip", testWebhooksRoundTrip},
	{"CursorAtEnd", testWebhookCursorAtEnd},
	{"Leases", testWebhookLeases},
	{"Batches", testWebhookBatches},
	{"OutboxOrder", testOutboxOrder},
	{"LateCommit", testOutboxLateCommit},
	{"DeleteDomain", testWebhooksDeleteDomain},
}

// setWebhooks replaces domain's webhooks by set at when.
func setWebhooks(t *testing.T, r store.Regional, domain string, when time.Time, set store.WebhookSet) {
	t.Helper()
	_, err := r.UpdateWebhooks(ctx, domain, when, func(store.WebhookSet) (store.WebhookSet, error) { return set, nil })
	mustOK(t, err, "UpdateWebhooks")
}

// mustCursors checks domain's cursors by URL (positions are not compared).
func mustCursors(t *testing.T, r store.Regional, domain string, want ...store.WebhookCursor) []store.WebhookCursor {
	t.Helper()
	got, err := r.WebhookCursors(ctx, domain)
	mustOK(t, err, "WebhookCursors")
	if len(got) != len(want) {
		t.Fatalf("WebhookCursors(%q) = %+v, want %d cursors %+v", domain, got, len(want), want)
	}
	for i := range want {
		want[i].Pos = got[i].Pos
		mustEqual(t, "cursor "+want[i].URL, want[i], got[i])
	}
	return got
}

func cursor(domain, url string, created time.Time) store.WebhookCursor {
	return store.WebhookCursor{Domain: domain, URL: url, CreatedAt: created}
}

func testWebhooksRoundTrip(t *testing.T, r store.Regional) {
	_, err := r.UpdateWebhooks(ctx, "a.com", at(1), func(s store.WebhookSet) (store.WebhookSet, error) { return s, nil })
	mustIs(t, err, store.ErrNotFound, "UpdateWebhooks of a missing domain")
	createDomain(t, r, fullDomain("a.com"), nil)
	createDomain(t, r, fullDomain("b.com"), nil)

	set := store.WebhookSet{"clicked": {"https://z.example/", "https://a.example/"}, "delivered": {"https://z.example/"}}
	setWebhooks(t, r, "a.com", at(1), set)
	setWebhooks(t, r, "b.com", at(2), store.WebhookSet{"opened": {"https://a.example/"}})
	got, err := r.Webhooks(ctx, "a.com")
	mustOK(t, err, "Webhooks")
	mustEqual(t, "webhooks", set, got)
	mustCursors(t, r, "a.com", cursor("a.com", "https://a.example/", at(1)), cursor("a.com", "https://z.example/", at(1)))

	// An edit that fails changes nothing; edit sees the current set.
	refused := errors.New("refused")
	_, err = r.UpdateWebhooks(ctx, "a.com", at(3), func(cur store.WebhookSet) (store.WebhookSet, error) {
		mustEqual(t, "set given to edit", set, cur)
		return store.WebhookSet{}, refused
	})
	mustIs(t, err, refused, "UpdateWebhooks whose edit fails")
	got, _ = r.Webhooks(ctx, "a.com")
	mustEqual(t, "webhooks after a failed edit", set, got)

	// A URL that stays keeps its cursor; one that goes loses it; a new one
	// gets one.
	next := store.WebhookSet{"clicked": {"https://z.example/"}, "opened": {"https://n.example/"}}
	out, err := r.UpdateWebhooks(ctx, "a.com", at(4), func(store.WebhookSet) (store.WebhookSet, error) { return next, nil })
	mustOK(t, err, "UpdateWebhooks")
	mustEqual(t, "UpdateWebhooks result", next, out)
	mustCursors(t, r, "a.com", cursor("a.com", "https://n.example/", at(4)), cursor("a.com", "https://z.example/", at(1)))
	all, err := r.WebhookCursors(ctx, "")
	mustOK(t, err, "WebhookCursors of all domains")
	if len(all) != 3 || all[0].Domain != "a.com" || all[2].Domain != "b.com" {
		t.Fatalf("all cursors: %+v", all)
	}
	empty, err := r.Webhooks(ctx, "c.com")
	if err != nil || len(empty) != 0 || empty == nil {
		t.Fatalf("Webhooks of a domain without any = %#v, %v; want an empty set", empty, err)
	}
}

// testWebhookCursorAtEnd: a new URL's cursor is past every event committed
// before (on PostgreSQL, before every transaction still in flight, so a
// few that committed just before may still come); later events come after
// it.
func testWebhookCursorAtEnd(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	m := message("a.com", "m1", 0)
	early := event(m, "accepted", "bob@x.com", at(1))
	mustOK(t, r.AppendEvents(ctx, []store.Event{early}), "AppendEvents")
	setWebhooks(t, r, "a.com", at(2), store.WebhookSet{"delivered": {"https://a.example/"}})
	c := mustCursors(t, r, "a.com", cursor("a.com", "https://a.example/", at(2)))[0]
	later := event(m, "delivered", "bob@x.com", at(3))
	mustOK(t, r.AppendEvents(ctx, []store.Event{later}), "AppendEvents")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := r.OutboxEvents(ctx, "a.com", c.Pos, 10)
		mustOK(t, err, "OutboxEvents")
		if n := len(got); n > 0 && got[n-1].ID == later.ID {
			if n > 1 && (sqlDB(t, r).Dialect().Name != "postgres" || n > 2 || got[0].ID != early.ID) {
				t.Fatalf("outbox after the new cursor = %+v, want only %s (or, on PostgreSQL, %s before it)", got, later.ID, early.ID)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox after the new cursor = %+v, want %s", got, later.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutbox polls OutboxEvents until it returns n events. On PostgreSQL
// transactions of other tests on the same server can hold the horizon
// back for a moment.
func waitOutbox(t *testing.T, r store.Regional, domain string, after store.OutboxPos, n int) []store.OutboxEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := r.OutboxEvents(ctx, domain, after, 1000)
		mustOK(t, err, "OutboxEvents")
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("OutboxEvents(%s, %+v) = %d events, want %d", domain, after, len(got), n)
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testWebhookLeases(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	const u = "https://a.example/"
	lease := func(owner string, now time.Time) bool {
		t.Helper()
		ok, err := r.LeaseWebhookCursor(ctx, "a.com", u, owner, now, now.Add(time.Minute))
		mustOK(t, err, "LeaseWebhookCursor")
		return ok
	}
	if lease("n1", at(0)) {
		t.Fatal("leased a cursor that does not exist")
	}
	setWebhooks(t, r, "a.com", at(0), store.WebhookSet{"opened": {u}})
	if !lease("n1", at(1)) || lease("n2", at(2)) || !lease("n1", at(30)) {
		t.Fatal("a free cursor must go to n1, stay n1's and be renewable by n1")
	}
	c := mustCursors(t, r, "a.com", store.WebhookCursor{Domain: "a.com", URL: u, CreatedAt: at(0),
		LeaseOwner: "n1", LeaseUntil: at(90)})[0]
	mustOK(t, r.ReleaseWebhookCursor(ctx, "a.com", u, "n2"), "ReleaseWebhookCursor by another")
	if lease("n2", at(89)) || !lease("n2", at(90)) || lease("n1", at(91)) {
		t.Fatal("n2 must get the cursor once n1's lease ended, and n1 no longer")
	}
	mustOK(t, r.ReleaseWebhookCursor(ctx, "a.com", u, "n2"), "ReleaseWebhookCursor")
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	mustCursors(t, r, "a.com", c)
	if !lease("n1", at(91)) {
		t.Fatal("a released cursor must be free at once")
	}
}

func testWebhookBatches(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	const u = "https://a.example/"
	setWebhooks(t, r, "a.com", at(0), store.WebhookSet{"permanent_fail": {u}, "opened": {u}})
	m := message("a.com", "m1", 0)
	var evs []store.Event
	for i := range 3 {
		evs = append(evs, event(m, "opened", fmt.Sprintf("r%d@x.com", i), at(i)))
	}
	mustOK(t, r.AppendEvents(ctx, evs), "AppendEvents")
	c := mustCursors(t, r, "a.com", cursor("a.com", u, at(0)))[0]
	out := waitOutbox(t, r, "a.com", c.Pos, 3)

	retry := func(e store.OutboxEvent, attempts int, next time.Time) store.WebhookRetry {
		return store.WebhookRetry{Domain: "a.com", URL: u, EventSeq: e.Seq, EventID: e.ID, Kind: "opened", Attempts: attempts,
			FirstAttemptAt: at(10), LastAttemptAt: at(10 + attempts), NextAttemptAt: next, LastStatus: 500, LastError: "HTTP 500"}
	}
	end, from := out[2].Pos(), c.Pos
	b := store.WebhookBatch{Domain: "a.com", URL: u, Owner: "n1", From: &from, Advance: &end,
		Retry:  []store.WebhookRetry{retry(out[0], 1, at(400)), retry(out[1], 1, at(300))},
		Posted: 1, Failures: 2, LastAttemptAt: at(11), LastStatus: 500, LastError: "HTTP 500"}
	mustIs(t, r.RecordWebhookBatch(ctx, b), store.ErrNotFound, "RecordWebhookBatch without the lease")
	mustCursors(t, r, "a.com", c)
	if ok, err := r.LeaseWebhookCursor(ctx, "a.com", u, "n1", at(10), at(70)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	stale := b
	stale.From = &end
	mustIs(t, r.RecordWebhookBatch(ctx, stale), store.ErrNotFound, "RecordWebhookBatch from another position")
	mustCursors(t, r, "a.com", store.WebhookCursor{Domain: "a.com", URL: u, CreatedAt: at(0), LeaseOwner: "n1", LeaseUntil: at(70)})
	mustOK(t, r.RecordWebhookBatch(ctx, b), "RecordWebhookBatch")
	c.LeaseOwner, c.LeaseUntil, c.Posted, c.Failures = "n1", at(70), 1, 2
	c.LastAttemptAt, c.LastStatus, c.LastError = at(11), 500, "HTTP 500"
	if got := mustCursors(t, r, "a.com", c)[0].Pos; got != end {
		t.Fatalf("cursor at %+v, want %+v", got, end)
	}

	// Retries come earliest first, with their event's data; dueBy filters.
	want1, want0 := retry(out[1], 1, at(300)), retry(out[0], 1, at(400))
	want1.Data, want0.Data = out[1].Data, out[0].Data
	mustRetries(t, r, u, time.Time{}, want1, want0)
	mustRetries(t, r, u, at(300), want1)

	// A batch without attempts keeps the summary; it reschedules one retry
	// and ends the other.
	again := retry(out[1], 2, at(900))
	mustOK(t, r.RecordWebhookBatch(ctx, store.WebhookBatch{Domain: "a.com", URL: u, Owner: "n1",
		Retry: []store.WebhookRetry{again}, Done: []int64{out[0].Seq}, Dropped: 1}), "RecordWebhookBatch")
	c.Dropped = 1
	mustCursors(t, r, "a.com", c)
	again.Data = out[1].Data
	mustRetries(t, r, u, time.Time{}, again)

	// Removing the URL removes its retries.
	setWebhooks(t, r, "a.com", at(5), store.WebhookSet{})
	mustRetries(t, r, u, time.Time{})
	if n := countRows(t, r, "webhook_retries"); n != 0 {
		t.Fatalf("%d retries left after the URL went", n)
	}
}

func mustRetries(t *testing.T, r store.Regional, u string, dueBy time.Time, want ...store.WebhookRetry) {
	t.Helper()
	got, err := r.WebhookRetries(ctx, "a.com", u, dueBy, 100)
	mustOK(t, err, "WebhookRetries")
	if len(got) != len(want) {
		t.Fatalf("WebhookRetries(due by %v) = %+v, want %+v", dueBy, got, want)
	}
	for i := range want {
		mustEqual(t, "retry", want[i], got[i])
	}
}

// testOutboxOrder: events come in (txid, seq) order from several
// transactions, only the domain's, paged by position.
func testOutboxOrder(t *testing.T, r store.Regional) {
	a, b := message("a.com", "m1", 0), message("b.com", "m2", 0)
	var want []string
	for i := range 5 {
		batch := []store.Event{event(a, "opened", fmt.Sprintf("r%d@x.com", i), at(10-i)),
			event(b, "opened", fmt.Sprintf("r%d@x.com", i), at(i)), event(a, "clicked", fmt.Sprintf("r%d@x.com", i), at(i))}
		mustOK(t, r.AppendEvents(ctx, batch), "AppendEvents")
		want = append(want, batch[0].ID, batch[2].ID)
	}
	all := waitOutbox(t, r, "a.com", store.OutboxPos{}, len(want))
	var got []string
	var pos store.OutboxPos
	for {
		page, err := r.OutboxEvents(ctx, "a.com", pos, 3)
		mustOK(t, err, "OutboxEvents")
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if !pos.Less(e.Pos()) {
				t.Fatalf("position %+v after %+v", e.Pos(), pos)
			}
			pos = e.Pos()
			got = append(got, e.ID)
		}
	}
	mustEqual(t, "outbox order", want, got)
	if all[0].Domain != "a.com" || string(all[0].Data) == "" {
		t.Fatalf("outbox event %+v", all[0])
	}
	head, err := r.OutboxHead(ctx)
	mustOK(t, err, "OutboxHead")
	if head.Seq < all[len(all)-1].Seq {
		t.Fatalf("OutboxHead %+v is behind the newest event %d", head, all[len(all)-1].Seq)
	}
}

// testOutboxLateCommit holds a transaction that wrote an event open while
// a later transaction commits another: the outbox must not hand out the
// later one first, or a reader moving past it would never see the held
// one. PostgreSQL only: there seq is assigned at insert; on SQLite the one
// writer makes seq order commit order (and a held write would block the
// other).
func testOutboxLateCommit(t *testing.T, r store.Regional) {
	db := sqlDB(t, r)
	if db.Dialect().Name != "postgres" {
		t.Skip("SQLite: one writer, seq order is commit order")
	}
	m := message("a.com", "m1", 0)
	held := event(m, "opened", "held@x.com", at(1))
	tx, err := db.Writer().BeginTx(ctx, nil)
	mustOK(t, err, "begin")
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO events (id, domain, type, severity, ts, message_id, recipient, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, held.ID, held.Domain, held.Type, held.Severity,
		held.Timestamp.UnixMicro(), held.MessageID, held.Recipient, string(held.Data))
	mustOK(t, err, "insert the held event")

	later := event(m, "opened", "later@x.com", at(2))
	mustOK(t, r.AppendEvents(ctx, []store.Event{later}), "AppendEvents")
	got, err := r.OutboxEvents(ctx, "a.com", store.OutboxPos{}, 10)
	mustOK(t, err, "OutboxEvents")
	if len(got) != 0 {
		t.Fatalf("while a transaction that wrote an event is open, the outbox gave %+v; a reader moving past it would skip the held event", got)
	}
	mustOK(t, tx.Commit(), "commit the held transaction")
	got = waitOutbox(t, r, "a.com", store.OutboxPos{}, 2)
	if got[0].ID != held.ID || got[1].ID != later.ID {
		t.Fatalf("outbox after the commit = %s, %s; want the held event first", got[0].ID, got[1].ID)
	}
	if got[0].Seq > got[1].Seq || got[0].TxID >= got[1].TxID {
		t.Fatalf("positions %+v, %+v: the held event took its seq first in an older transaction", got[0].Pos(), got[1].Pos())
	}
}

func testWebhooksDeleteDomain(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	setWebhooks(t, r, "a.com", at(0), store.WebhookSet{"opened": {"https://a.example/"}})
	mustOK(t, r.DeleteDomain(ctx, "a.com"), "DeleteDomain")
	for _, table := range []string{"webhooks", "webhook_cursors"} {
		if n := countRows(t, r, table); n != 0 {
			t.Fatalf("%d rows left in %s after DeleteDomain", n, table)
		}
	}
}
