package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// partsInfo is the MessageInfo of m as package send builds it, with n
// recipients in its To header.
func partsInfo(m store.Message, n int) (*events.MessageInfo, []string) {
	var rcpts []string
	for i := range n {
		rcpts = append(rcpts, fmt.Sprintf("Rcpt%03d@example.com", i))
	}
	return &events.MessageInfo{
		Domain: m.Domain, StorageKey: m.Key, StorageURL: "https://api.example/v3/domains/" + m.Domain + "/messages/" + m.Key,
		MessageID: m.MessageID, From: "Sender <s@" + m.Domain + ">", To: strings.Join(rcpts, ", "),
		Subject: "Ünïcode \"quoted\" \\ subject <b>", Size: m.Size,
		Attachments: []mgapi.AttachmentInfo{{Filename: "a.pdf", ContentType: "application/pdf", Size: 3}},
		Tags:        []string{"news", "big"}, UserVariables: map[string]any{"n": 1.5, "s": "x\u2028y"},
		Method: "http", Sender: m.Sender,
	}, rcpts
}

// testEventParts writes the events of a message with a large To header
// through every path (Accept, Complete, AppendEvents), and of a batch send
// whose events differ per recipient, and checks that every reader returns
// each event's JSON byte for byte as written, that the message-level
// members are stored once per distinct value (not once per event), that a
// row in the layout before migration 0017 (the whole JSON inline) reads
// alike, and that purging removes parts with the last event that uses
// them.
func testEventParts(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	const u = "https://a.example/"
	setWebhooks(t, r, "a.com", at(0), store.WebhookSet{"delivered": {u}})
	c := mustCursors(t, r, "a.com", cursor("a.com", u, at(0)))[0]

	big := message("a.com", "big", 0)
	mi, rcpts := partsInfo(big, 40)
	a := store.Accept{Message: big}
	written := map[string][]byte{}
	keep := func(evs ...store.Event) []store.Event {
		for _, e := range evs {
			written[e.ID] = e.Data
		}
		return evs
	}
	for _, rc := range rcpts {
		a.Jobs = append(a.Jobs, job(big, strings.ToLower(rc), at(0)))
		a.Events = append(a.Events, keep(events.NewAccepted(mi, rc, nil, at(1)))...)
	}
	_, err := r.Accept(ctx, a)
	mustOK(t, err, "Accept")
	jobs, err := r.ClaimJobs(ctx, store.Claim{Now: at(2), Lease: time.Minute, Owner: "n1", Limit: 100})
	mustOK(t, err, "ClaimJobs")
	if len(jobs) != len(rcpts) {
		t.Fatalf("claimed %d jobs, want %d", len(jobs), len(rcpts))
	}
	var outs []store.Outcome
	for i, j := range jobs {
		ds := mgapi.DeliveryStatus{Code: 250, Message: "OK", AttemptNo: 1, MXHost: "mx.example.com"}
		e := events.NewDelivered(mi, j.Recipient, nil, ds, at(3))
		if i%2 == 1 {
			ds = mgapi.DeliveryStatus{Code: 451, Message: "try later", AttemptNo: 1}
			e = events.NewFailed(mi, j.Recipient, nil, events.Temporary, events.ReasonGeneric, ds, at(3))
		}
		outs = append(outs, store.Outcome{JobID: j.ID, Done: i%2 == 0, NextAttemptAt: at(600), Events: keep(e)})
	}
	mustOK(t, r.Complete(ctx, outs), "Complete")
	opened := keep(events.NewEngagement(mi, events.Opened, rcpts[0], events.Engagement{IP: "192.0.2.7"}, at(4)))
	mustOK(t, r.AppendEvents(ctx, opened), "AppendEvents")

	// A batch send: each recipient's To and variables are its own, a
	// part each; more parts than one read of parts asks for (200).
	batch := message("a.com", "batch", 0)
	bmi, brcpts := partsInfo(batch, 210)
	bmi.OwnTo, bmi.Subject = true, strings.Repeat("long subject ", 40)
	var bevs []store.Event
	for i, rc := range brcpts {
		bevs = append(bevs, keep(events.NewAccepted(bmi, rc, map[string]any{"i": float64(i)}, at(5)))...)
	}
	mustOK(t, r.AppendEvents(ctx, bevs), "AppendEvents")
	// A small message: its events stay whole.
	small := message("a.com", "small", 0)
	smi, _ := partsInfo(small, 1)
	smi.Attachments, smi.UserVariables, smi.Tags, smi.StorageURL = nil, nil, nil, "u"
	mustOK(t, r.AppendEvents(ctx, keep(events.NewAccepted(smi, "s@x.com", nil, at(6)))), "AppendEvents")

	// A row as written before migration 0017: the whole JSON inline.
	old := events.NewDelivered(mi, rcpts[1], nil, mgapi.DeliveryStatus{Code: 250}, at(7))
	keep(old)
	_, err = sqlDB(t, r).Writer().ExecContext(ctx, rebind(t, r, `INSERT INTO events (id, domain, type, severity, ts, message_id, recipient, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), old.ID, old.Domain, old.Type, old.Severity, old.Timestamp.UnixMicro(),
		old.MessageID, old.Recipient, string(old.Data))
	mustOK(t, err, "insert an event in the old layout")

	// The API's reads: every event, then each filter the Events API pushes down.
	got, err := r.Events(ctx, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 1000})
	mustOK(t, err, "Events")
	if len(got) != len(written) {
		t.Fatalf("Events returned %d events, want %d", len(got), len(written))
	}
	for _, e := range got {
		if string(e.Data) != string(written[e.ID]) {
			t.Fatalf("event %s (%s) reads back as\n%s\nwant\n%s", e.ID, e.Type, e.Data, written[e.ID])
		}
	}
	for _, q := range []store.EventQuery{{Type: "delivered"}, {Recipient: "rcpt007@example.com"}, {MessageID: big.MessageID}} {
		q.Domain, q.Limit = "a.com", 7
		evs, err := r.Events(ctx, q)
		mustOK(t, err, "Events "+describe(q))
		if len(evs) == 0 {
			t.Fatalf("Events(%s) found nothing", describe(q))
		}
		for _, e := range evs {
			if string(e.Data) != string(written[e.ID]) {
				t.Fatalf("Events(%s): event %s differs from what was written", describe(q), e.ID)
			}
		}
	}

	// Split reads (the Events API's): Data without the part, which JSON
	// puts back; events stored whole come back with no part.
	split, err := r.Events(ctx, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 1000, Split: true})
	mustOK(t, err, "Events split")
	if len(split) != len(written) {
		t.Fatalf("split Events returned %d events, want %d", len(split), len(written))
	}
	var cut int
	for _, e := range split {
		if e.Part != "" {
			cut++
			if len(e.Data) >= len(written[e.ID]) {
				t.Errorf("split event %s (%s): Data is %d bytes with its part cut out, the event %d", e.ID, e.Type, len(e.Data), len(written[e.ID]))
			}
		}
		if string(e.JSON()) != string(written[e.ID]) {
			t.Fatalf("split event %s (%s) joins back as\n%s\nwant\n%s", e.ID, e.Type, e.JSON(), written[e.ID])
		}
	}
	if cut == 0 || cut == len(split) {
		t.Errorf("%d of %d events came back split; want the big messages' split and the small and old ones whole", cut, len(split))
	}

	// The webhook outbox and retries read the same JSON.
	out := waitOutbox(t, r, "a.com", c.Pos, len(written))
	var retried store.OutboxEvent
	for _, e := range out {
		if string(e.Data) != string(written[e.ID]) {
			t.Fatalf("outbox event %s (%s) differs from what was written:\n%s", e.ID, e.Type, e.Data)
		}
		if e.Type == "delivered" && retried.ID == "" {
			retried = e
		}
	}
	if ok, err := r.LeaseWebhookCursor(ctx, "a.com", u, "n1", at(10), at(70)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	end, from := out[len(out)-1].Pos(), c.Pos
	mustOK(t, r.RecordWebhookBatch(ctx, store.WebhookBatch{Domain: "a.com", URL: u, Owner: "n1", From: &from, Advance: &end,
		Retry: []store.WebhookRetry{{Domain: "a.com", URL: u, EventSeq: retried.Seq, EventID: retried.ID, Kind: "delivered",
			Attempts: 1, FirstAttemptAt: at(10), LastAttemptAt: at(10), NextAttemptAt: at(20), LastStatus: 500}}}), "RecordWebhookBatch")
	rs, err := r.WebhookRetries(ctx, "a.com", u, time.Time{}, 10)
	mustOK(t, err, "WebhookRetries")
	if len(rs) != 1 || string(rs[0].Data) != string(written[retried.ID]) {
		t.Fatalf("WebhookRetries = %+v, want the delivered event's JSON", rs)
	}

	// Stored once: one part for the 81 accepted, delivered and failed
	// events of the big message (their message-level members are equal),
	// one for its opened event (which has no flags and no storage), one
	// per batch recipient, none for the small message; no event row
	// holds the To header.
	if n := countRows(t, r, "event_parts"); n != 2+len(brcpts) {
		t.Fatalf("%d event parts, want %d", n, 2+len(brcpts))
	}
	var longest int
	mustOK(t, sqlDB(t, r).Writer().QueryRowContext(ctx, rebind(t, r, `SELECT MAX(LENGTH(data)) FROM events WHERE message_id = ? AND id <> ?`),
		big.MessageID, old.ID).Scan(&longest), "longest event row")
	if longest >= len(mi.To) || longest > 1024 {
		t.Fatalf("an event row of the big message holds %d bytes of JSON; its To header alone is %d", longest, len(mi.To))
	}

	// Purging events removes the parts no event uses any more; an event
	// written later keeps its part.
	late := events.NewEngagement(bmi, events.Opened, brcpts[0], events.Engagement{IP: "192.0.2.8"}, at(100))
	mustOK(t, r.AppendEvents(ctx, []store.Event{late}), "AppendEvents")
	_, err = r.Purge(ctx, at(0), at(50))
	mustOK(t, err, "Purge")
	if n := countRows(t, r, "event_parts"); n != 1 {
		t.Fatalf("%d event parts after the purge, want 1 (the late event's)", n)
	}
	got, err = r.Events(ctx, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 1000})
	mustOK(t, err, "Events after the purge")
	if len(got) != 1 || string(got[0].Data) != string(late.Data) {
		t.Fatalf("after the purge Events = %d events, want the late one whole", len(got))
	}
}

// rebind rewrites ? placeholders for r's dialect.
func rebind(t *testing.T, r store.Regional, q string) string {
	if sqlDB(t, r).Dialect().Name != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
