package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var messageTests = []regionalTest{
	{"AcceptRoundTrip", testAcceptRoundTrip},
	{"MessageZeroValues", testMessageZeroValues},
	{"LargeBody", testLargeBody},
	{"MessageNotFound", testMessageNotFound},
	{"Messages", testMessages},
	{"AcceptConflict", testAcceptConflict},
	{"AcceptAtomic", testAcceptAtomic},
	{"AcceptConcurrent", testAcceptConcurrent},
	{"Idempotency", testIdempotency},
	{"IdempotencyExpired", testIdempotencyExpired},
	{"IdempotencyConcurrent", testIdempotencyConcurrent},
	{"Purge", testPurge},
	{"PurgeMany", testPurgeMany},
	{"DeleteDomainMessages", testDeleteDomainMessages},
}

// message is a message of domain with every field set; the body holds
// bytes that are not text. Its Message-ID is key@domain; it is created n
// seconds after t0 and expires a day later.
func message(domain, key string, n int) store.Message {
	body := []byte("Message-ID: <" + key + "@" + domain + ">\r\n\r\nbytes \x00\xff\xfe of " + key + "\r\n")
	return store.Message{
		Key: key, Domain: domain, MessageID: key + "@" + domain, Sender: "bounce+" + key + "@" + domain,
		Size: len(body), Body: body, Meta: []byte(`{"tags":["` + key + `"]}`),
		CreatedAt: at(n), ExpiresAt: at(n).Add(24 * time.Hour),
	}
}

// job is a new job of m for rcpt, due at next.
func job(m store.Message, rcpt string, next time.Time) store.Job {
	return store.Job{
		MessageKey: m.Key, Domain: m.Domain, Recipient: rcpt, RcptDomain: rcpt[strings.LastIndexByte(rcpt, '@')+1:],
		NextAttemptAt: next, CreatedAt: m.CreatedAt, Vars: []byte(`{"rcpt":"` + rcpt + `"}`),
	}
}

// event is an event of type typ about m and rcpt at when.
func event(m store.Message, typ, rcpt string, when time.Time) store.Event {
	id := fmt.Sprintf("%s/%s/%s/%d", m.Key, typ, rcpt, when.UnixMicro())
	return store.Event{
		ID: id, Domain: m.Domain, Type: typ, Severity: "info", Timestamp: when,
		MessageID: m.MessageID, Recipient: rcpt, Data: []byte(`{"id":"` + id + `","event":"` + typ + `"}`),
	}
}

// submission is what accepting m for rcpts writes: per recipient a job due
// at once and an accepted event.
func submission(m store.Message, rcpts ...string) store.Accept {
	a := store.Accept{Message: m}
	for _, rcpt := range rcpts {
		a.Jobs = append(a.Jobs, job(m, rcpt, m.CreatedAt))
		a.Events = append(a.Events, event(m, "accepted", rcpt, m.CreatedAt))
	}
	return a
}

// idempotency is a record of (domain, key) for the request fp, valid until
// expires. Accept compares it with the wall clock, so expires must be
// relative to time.Now, not t0.
func idempotency(domain, key, fp string, expires time.Time) *store.Idempotency {
	return &store.Idempotency{Domain: domain, Key: key, Fingerprint: fp,
		Response: []byte(`{"id":"<` + fp + `>","message":"Queued. Thank you."}`), ExpiresAt: expires}
}

// now is the wall clock at microsecond precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// accept stores a, which must be new.
func accept(t *testing.T, r store.Regional, a store.Accept) {
	t.Helper()
	prev, err := r.Accept(ctx, a)
	mustOK(t, err, "Accept "+a.Message.Key)
	if prev != nil {
		t.Fatalf("Accept %s: previous = %+v for a new submission", a.Message.Key, *prev)
	}
}

// acceptAll accepts subs concurrently; each must be new.
func acceptAll(t *testing.T, r store.Regional, subs []store.Accept) {
	t.Helper()
	errs := make([]error, len(subs))
	concurrently(len(subs), func(i int) {
		prev, err := r.Accept(ctx, subs[i])
		if err == nil && prev != nil {
			err = fmt.Errorf("previous = %+v for a new submission", *prev)
		}
		errs[i] = err
	})
	for i, err := range errs {
		mustOK(t, err, "Accept "+subs[i].Message.Key)
	}
}

// mustAccept fails t unless Accept(a) returns want as the previous record.
func mustAccept(t *testing.T, r store.Regional, a store.Accept, want *store.Idempotency) {
	t.Helper()
	prev, err := r.Accept(ctx, a)
	mustOK(t, err, "Accept "+a.Message.Key)
	if (prev == nil) != (want == nil) {
		t.Fatalf("Accept %s: previous = %v, want %v", a.Message.Key, prev, want)
	}
	if want != nil {
		mustEqual(t, "previous Idempotency", *want, *prev)
	}
}

// concurrently runs fn(0) … fn(n-1) in goroutines released together and
// waits for them all.
func concurrently(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// mustAccepted fails t unless everything a wrote is stored: the message,
// its jobs and its events. It returns the jobs with the IDs the store gave
// them.
func mustAccepted(t *testing.T, r store.Regional, a store.Accept) []store.Job {
	t.Helper()
	mustMessage(t, r, a.Message)
	jobs := mustJobs(t, r, a.Message, a.Jobs...)
	mustEvents(t, r, eventsOf(a.Message), a.Events...)
	return jobs
}

// mustNotAccepted fails t if anything of a is stored.
func mustNotAccepted(t *testing.T, r store.Regional, a store.Accept) {
	t.Helper()
	_, err := r.Message(ctx, a.Message.Domain, a.Message.Key)
	mustIs(t, err, store.ErrNotFound, "Message "+a.Message.Key)
	mustJobs(t, r, a.Message)
	mustEvents(t, r, eventsOf(a.Message))
}

func mustMessage(t *testing.T, r store.Regional, want store.Message) {
	t.Helper()
	got, err := r.Message(ctx, want.Domain, want.Key)
	mustOK(t, err, "Message "+want.Key)
	mustEqual(t, "Message "+want.Key, want, got)
}

// mustJobs fails t unless JobsOfMessage(m) returns want, in order, with IDs
// set by the store; it returns them.
func mustJobs(t *testing.T, r store.Regional, m store.Message, want ...store.Job) []store.Job {
	t.Helper()
	got, err := r.JobsOfMessage(ctx, m.Domain, m.MessageID)
	what := "JobsOfMessage " + m.MessageID
	mustOK(t, err, what)
	want = assigned(t, what, want, got, jobID)
	mustEqual(t, what, want, got)
	return got
}

// eventsOf queries m's events in time order.
func eventsOf(m store.Message) store.EventQuery {
	return store.EventQuery{Domain: m.Domain, MessageID: m.MessageID, Ascending: true, Limit: 1000}
}

// mustEvents fails t unless Events(q) returns want, in order, with
// sequence numbers set by the store; it returns them.
func mustEvents(t *testing.T, r store.Regional, q store.EventQuery, want ...store.Event) []store.Event {
	t.Helper()
	got, err := r.Events(ctx, q)
	what := fmt.Sprintf("Events(%+v)", q)
	mustOK(t, err, what)
	want = assigned(t, what, want, got, eventSeq)
	mustEqual(t, what, want, got)
	return got
}

func jobID(j *store.Job) *int64      { return &j.ID }
func eventSeq(e *store.Event) *int64 { return &e.Seq }

// assigned returns want with the field that the store assigns (a job's ID,
// an event's Seq) copied from got, so that whole records can be compared. It
// fails t unless got has as many records and each has the field set and
// distinct.
func assigned[T any](t *testing.T, what string, want, got []T, field func(*T) *int64) []T {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d records, want %d:\ngot  %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	out := slices.Clone(want)
	seen := map[int64]bool{}
	for i := range got {
		v := *field(&got[i])
		if v == 0 || seen[v] {
			t.Fatalf("%s: record %d has the store-assigned number %d, unset or seen before: %+v", what, i, v, got)
		}
		seen[v] = true
		*field(&out[i]) = v
	}
	return out
}

func testAcceptRoundTrip(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 1)
	requireAllSet(t, m)
	full := job(m, "Bob@Gmail.com", at(2))
	full.Attempts, full.LeaseUntil, full.LastError = 3, at(9), "451 4.7.1 greylisted"
	requireAllSet(t, full, "ID")
	bare := job(m, "carol@yahoo.com", at(3))
	bare.Vars = nil
	ev := event(m, "accepted", "Bob@Gmail.com", at(1))
	ev.Severity = "temporary"
	// Facts are a hint for the counters, not stored; Part and PartAt are
	// set only by split reads (testEventParts).
	requireAllSet(t, ev, "Seq", "Facts", "Part", "PartAt")
	a := store.Accept{Message: m, Jobs: []store.Job{full, bare}, Events: []store.Event{ev, event(m, "accepted", "carol@yahoo.com", at(1))}}
	accept(t, r, a)
	mustAccepted(t, r, a)
}

// testMessageZeroValues checks that a message with nothing but its names
// is stored and comes back so.
func testMessageZeroValues(t *testing.T, r store.Regional) {
	m := store.Message{Key: "m1", Domain: "a.com", MessageID: "m1@a.com"}
	a := store.Accept{Message: m, Jobs: []store.Job{{MessageKey: "m1", Domain: "a.com", Recipient: "b@c.com"}}}
	accept(t, r, a)
	mustAccepted(t, r, a)
}

func testLargeBody(t *testing.T, r store.Regional) {
	m := message("a.com", "big", 1)
	m.Body = make([]byte, 5<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(m.Body)
	m.Size = len(m.Body)
	accept(t, r, submission(m, "bob@gmail.com"))
	got, err := r.Message(ctx, m.Domain, m.Key)
	mustOK(t, err, "Message")
	if !bytes.Equal(got.Body, m.Body) {
		t.Fatalf("a 5 MB body came back as %d bytes that differ", len(got.Body))
	}
	got.Body, m.Body = nil, nil
	mustEqual(t, "Message", m, got)
}

func testMessageNotFound(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 1)
	accept(t, r, submission(m, "bob@gmail.com"))
	for _, c := range []struct{ domain, key string }{{"a.com", "m2"}, {"b.com", "m1"}} {
		_, err := r.Message(ctx, c.domain, c.key)
		mustIs(t, err, store.ErrNotFound, fmt.Sprintf("Message(%s, %s)", c.domain, c.key))
	}
}

// testMessages checks the batch load: the domain's messages among the
// keys, whole, and nothing of another domain or not stored.
func testMessages(t *testing.T, r store.Regional) {
	var want []store.Message
	for i := range 3 {
		m := message("a.com", fmt.Sprint("m", i), i)
		accept(t, r, submission(m, "bob@gmail.com"))
		want = append(want, m)
	}
	other := message("b.com", "o1", 9)
	accept(t, r, submission(other, "bob@gmail.com"))
	got, err := r.Messages(ctx, "a.com", []string{"m2", "o1", "m0", "missing", "m1"})
	mustOK(t, err, "Messages")
	slices.SortFunc(got, func(x, y store.Message) int { return strings.Compare(x.Key, y.Key) })
	mustEqual(t, "Messages", want, got)
	none, err := r.Messages(ctx, "b.com", []string{"m0"})
	mustOK(t, err, "Messages of another domain")
	if len(none) != 0 {
		t.Errorf("Messages(b.com, m0) = %d messages, want none", len(none))
	}
}

// testAcceptConflict checks that an Accept whose message key is taken
// writes nothing: not its jobs, events or idempotency record.
func testAcceptConflict(t *testing.T, r store.Regional) {
	first := submission(message("a.com", "m1", 1), "bob@gmail.com")
	accept(t, r, first)
	m := message("a.com", "m1", 2)
	m.MessageID, m.Body = "other@a.com", []byte("another body")
	dup := submission(m, "carol@yahoo.com", "dave@outlook.com")
	dup.Idempotency = idempotency("a.com", "key-1", "fp-dup", now().Add(time.Hour))
	_, err := r.Accept(ctx, dup)
	mustIs(t, err, store.ErrConflict, "Accept of a taken message key")

	mustAccepted(t, r, first)
	mustEvents(t, r, eventsOf(dup.Message))
	next := submission(message("a.com", "m3", 3), "bob@gmail.com")
	next.Idempotency = idempotency("a.com", "key-1", "fp-next", now().Add(time.Hour))
	mustAccept(t, r, next, nil) // the conflicting Accept's record was not kept
}

// testAcceptAtomic checks that when the last insert of an Accept fails, the
// message, jobs and idempotency record written before it are rolled back.
func testAcceptAtomic(t *testing.T, r store.Regional) {
	refuseEvents(t, r)
	a := submission(message("a.com", "m1", 1), "bob@gmail.com", "carol@yahoo.com")
	a.Events = append(a.Events, event(a.Message, refusedType, "bob@gmail.com", at(1)))
	a.Idempotency = idempotency("a.com", "key-1", "fp-1", now().Add(time.Hour))
	if _, err := r.Accept(ctx, a); err == nil {
		t.Fatal("Accept with a refused event succeeded")
	}
	mustNotAccepted(t, r, a)

	a.Events = a.Events[:2]
	mustAccept(t, r, a, nil)
	mustAccepted(t, r, a)
}

func testAcceptConcurrent(t *testing.T, r store.Regional) {
	subs := make([]store.Accept, 64)
	for i := range subs {
		subs[i] = submission(message("a.com", fmt.Sprint("m", i), i), "bob@gmail.com", fmt.Sprintf("rcpt%d@yahoo.com", i))
	}
	acceptAll(t, r, subs)
	for _, a := range subs {
		mustAccepted(t, r, a)
	}
}

func testIdempotency(t *testing.T, r store.Regional) {
	expires := now().Add(time.Hour)
	first := submission(message("a.com", "m1", 1), "bob@gmail.com")
	first.Idempotency = idempotency("a.com", "key-1", "fp-1", expires)
	mustAccept(t, r, first, nil)

	second := submission(message("a.com", "m2", 2), "carol@yahoo.com")
	second.Idempotency = idempotency("a.com", "key-1", "fp-2", expires.Add(time.Hour))
	mustAccept(t, r, second, first.Idempotency)
	mustNotAccepted(t, r, second)
	mustAccepted(t, r, first)

	// Keys are per domain; without a key nothing is remembered.
	other := submission(message("b.com", "m3", 3), "bob@gmail.com")
	other.Idempotency = idempotency("b.com", "key-1", "fp-3", expires)
	mustAccept(t, r, other, nil)
	mustAccepted(t, r, other)
	plain := submission(message("a.com", "m4", 4), "bob@gmail.com")
	mustAccept(t, r, plain, nil)
	mustAccept(t, r, submission(message("a.com", "m5", 5), "bob@gmail.com"), nil)
	mustAccept(t, r, second, first.Idempotency)
}

func testIdempotencyExpired(t *testing.T, r store.Regional) {
	old := submission(message("a.com", "m1", 1), "bob@gmail.com")
	old.Idempotency = idempotency("a.com", "key-1", "fp-1", now().Add(-time.Minute))
	mustAccept(t, r, old, nil)

	renewed := submission(message("a.com", "m2", 2), "bob@gmail.com")
	renewed.Idempotency = idempotency("a.com", "key-1", "fp-2", now().Add(time.Hour))
	mustAccept(t, r, renewed, nil)
	mustAccepted(t, r, renewed)

	again := submission(message("a.com", "m3", 3), "bob@gmail.com")
	again.Idempotency = idempotency("a.com", "key-1", "fp-3", now().Add(time.Hour))
	mustAccept(t, r, again, renewed.Idempotency)
	mustNotAccepted(t, r, again)
}

func testIdempotencyConcurrent(t *testing.T, r store.Regional) {
	mustRaceIdempotency(t, []store.Regional{r}, 20)
}

// mustRaceIdempotency accepts n submissions with one idempotency key at
// once, spread over nodes, and fails t unless exactly one was written and
// every other returned its record.
func mustRaceIdempotency(t *testing.T, nodes []store.Regional, n int) {
	t.Helper()
	expires := now().Add(time.Hour)
	subs := make([]store.Accept, n)
	prevs := make([]*store.Idempotency, n)
	errs := make([]error, n)
	for i := range subs {
		subs[i] = submission(message("a.com", fmt.Sprint("m", i), i), "bob@gmail.com")
		subs[i].Idempotency = idempotency("a.com", "key-1", fmt.Sprint("fp-", i), expires)
	}
	concurrently(n, func(i int) {
		prevs[i], errs[i] = nodes[i%len(nodes)].Accept(ctx, subs[i])
	})
	winner := -1
	for i := range n {
		mustOK(t, errs[i], fmt.Sprint("concurrent Accept ", i))
		if prevs[i] == nil {
			if winner >= 0 {
				t.Fatalf("Accepts %d and %d with one idempotency key both wrote", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no Accept wrote")
	}
	for i := range n {
		if i == winner {
			mustAccepted(t, nodes[0], subs[i])
			continue
		}
		mustEqual(t, fmt.Sprint("previous of Accept ", i), *subs[winner].Idempotency, *prevs[i])
		mustNotAccepted(t, nodes[0], subs[i])
	}
}

func testPurge(t *testing.T, r store.Regional) {
	cutoff := at(1000)
	expired := submission(message("a.com", "expired", 1))
	expired.Message.ExpiresAt = at(10)
	expired.Events = []store.Event{event(expired.Message, "accepted", "bob@gmail.com", at(1))}
	expired.Idempotency = idempotency("a.com", "key-1", "fp-1", at(10))
	queued := submission(message("a.com", "queued", 2), "bob@gmail.com")
	queued.Message.ExpiresAt = at(10)
	live := submission(message("a.com", "live", 3))
	live.Message.ExpiresAt = cutoff.Add(time.Microsecond)
	live.Idempotency = idempotency("a.com", "key-2", "fp-2", now().Add(time.Hour))
	for _, a := range []store.Accept{expired, queued, live} {
		accept(t, r, a)
	}
	atCutoff := event(live.Message, "opened", "bob@gmail.com", at(50))
	before := event(live.Message, "clicked", "bob@gmail.com", at(50).Add(-time.Microsecond))
	mustOK(t, r.AppendEvents(ctx, []store.Event{atCutoff, before}), "AppendEvents")

	n, err := r.Purge(ctx, cutoff, at(50))
	mustOK(t, err, "Purge")
	if n != 1 {
		t.Fatalf("Purge removed %d messages, want 1", n)
	}
	_, err = r.Message(ctx, "a.com", "expired")
	mustIs(t, err, store.ErrNotFound, "Message of a purged message")
	mustMessage(t, r, queued.Message) // expired, but a job still needs it
	jobs := mustJobs(t, r, queued.Message, queued.Jobs...)
	mustMessage(t, r, live.Message)
	mustEvents(t, r, eventsOf(live.Message), atCutoff)
	mustEvents(t, r, eventsOf(expired.Message))
	if n := countRows(t, r, "idempotency"); n != 1 {
		t.Fatalf("%d idempotency records after Purge, want the live one", n)
	}
	mustAccept(t, r, submission(message("a.com", "retry", 4)), nil)
	retry := submission(message("a.com", "retry2", 4))
	retry.Idempotency = idempotency("a.com", "key-2", "fp-3", now().Add(time.Hour))
	mustAccept(t, r, retry, live.Idempotency)

	// Once its job is done, the expired message goes too.
	mustOK(t, r.Complete(ctx, []store.Outcome{{JobID: jobs[0].ID, Done: true}}), "Complete")
	n, err = r.Purge(ctx, cutoff, at(50))
	mustOK(t, err, "second Purge")
	if n != 1 {
		t.Fatalf("second Purge removed %d messages, want 1", n)
	}
	_, err = r.Message(ctx, "a.com", "queued")
	mustIs(t, err, store.ErrNotFound, "Message of a purged message")
	mustMessage(t, r, live.Message)
}

// testPurgeMany checks that Purge removes all of thousands of records,
// however many transactions it takes.
func testPurgeMany(t *testing.T, r store.Regional) {
	const messages, events = 2100, 4200
	subs := make([]store.Accept, messages)
	for i := range subs {
		subs[i] = submission(message("a.com", fmt.Sprint("m", i), 1))
		subs[i].Message.ExpiresAt = at(2)
	}
	acceptAll(t, r, subs)
	evs := make([]store.Event, events)
	for i := range evs {
		evs[i] = event(subs[0].Message, "opened", fmt.Sprintf("r%d@gmail.com", i), at(3))
	}
	mustOK(t, r.AppendEvents(ctx, evs), "AppendEvents")
	keep := submission(message("a.com", "keep", 5), "bob@gmail.com")
	accept(t, r, keep)

	n, err := r.Purge(ctx, at(4), at(4))
	mustOK(t, err, "Purge")
	if n != messages {
		t.Fatalf("Purge removed %d messages, want %d", n, messages)
	}
	for _, table := range []string{"messages", "events"} {
		if n := countRows(t, r, table); n != 1 {
			t.Errorf("%d rows left in %s, want 1", n, table)
		}
	}
	mustAccepted(t, r, keep)
}

// testDeleteDomainMessages checks that DeleteDomain removes the domain's
// messages, jobs, events and idempotency records, and nothing of others.
func testDeleteDomainMessages(t *testing.T, r store.Regional) {
	expires := now().Add(time.Hour)
	subs := map[string]store.Accept{}
	for i, name := range []string{"a.com", "b.com"} {
		createDomain(t, r, fullDomain(name), nil)
		m := message(name, "m-"+name, i+1)
		m.MessageID = "same-id@example.com" // Message-IDs are per domain
		a := submission(m, "bob@gmail.com", "carol@"+name)
		a.Idempotency = idempotency(name, "key-1", "fp-"+name, expires)
		accept(t, r, a)
		subs[name] = a
	}
	mustOK(t, r.DeleteDomain(ctx, "a.com"), "DeleteDomain")

	mustNotAccepted(t, r, subs["a.com"])
	b := subs["b.com"]
	mustAccepted(t, r, b)
	mustQueueStats(t, r, "", at(0),
		store.DestinationStats{RcptDomain: "b.com", Waiting: 1, NextAttemptAt: at(2)},
		store.DestinationStats{RcptDomain: "gmail.com", Waiting: 1, NextAttemptAt: at(2)})
	mustAccept(t, r, b, b.Idempotency)
	mustAccept(t, r, subs["a.com"], nil) // its idempotency record went too
}
