package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var smtpTests = []regionalTest{
	{"Credentials", testCredentials},
	{"CredentialsAtomic", testCredentialsAtomic},
	{"DeleteCredentials", testDeleteCredentials},
	{"Routes", testRoutes},
	{"RouteOrder", testRouteOrder},
	{"InboundRoundTrip", testInboundRoundTrip},
	{"InboundLeasedAtReceipt", testInboundLeasedAtReceipt},
	{"InboundFinish", testInboundFinish},
	{"InboundRetry", testInboundRetry},
	{"InboundDomainDeleted", testInboundDomainDeleted},
}

func credential(domain, local string, n int) store.Credential {
	return store.Credential{Domain: domain, Login: local + "@" + domain, Hash: hash(local + domain), CreatedAt: at(n)}
}

func mustCredentials(t *testing.T, r store.Regional, domain string, skip, limit, total int, want ...store.Credential) {
	t.Helper()
	got, n, err := r.Credentials(ctx, domain, skip, limit)
	what := fmt.Sprintf("Credentials(%s, %d, %d)", domain, skip, limit)
	mustOK(t, err, what)
	if n != total {
		t.Fatalf("%s: total %d, want %d", what, n, total)
	}
	if want == nil {
		want = []store.Credential{}
	}
	if got == nil {
		got = []store.Credential{}
	}
	mustEqual(t, what, want, got)
}

func testCredentials(t *testing.T, r store.Regional) {
	a, b, c := credential("a.com", "bob", 1), credential("a.com", "alice", 2), credential("b.com", "bob", 3)
	requireAllSet(t, a)
	mustOK(t, r.CreateCredentials(ctx, []store.Credential{a, b}), "CreateCredentials")
	mustOK(t, r.CreateCredentials(ctx, []store.Credential{c}), "CreateCredentials other domain")
	got, err := r.Credential(ctx, a.Login)
	mustOK(t, err, "Credential")
	mustEqual(t, "Credential", a, got)
	_, err = r.Credential(ctx, "nobody@a.com")
	mustIs(t, err, store.ErrNotFound, "Credential of an unknown login")

	mustCredentials(t, r, "a.com", 0, 10, 2, b, a) // by login
	mustCredentials(t, r, "a.com", 1, 10, 2, a)
	mustCredentials(t, r, "a.com", 0, 1, 2, b)
	mustCredentials(t, r, "c.com", 0, 10, 0)

	a.Hash = hash("new password")
	mustOK(t, r.SetCredentialHash(ctx, "a.com", a.Login, a.Hash), "SetCredentialHash")
	got, _ = r.Credential(ctx, a.Login)
	mustEqual(t, "Credential after SetCredentialHash", a, got)
	mustIs(t, r.SetCredentialHash(ctx, "b.com", a.Login, a.Hash), store.ErrNotFound, "SetCredentialHash through another domain")
	mustIs(t, r.DeleteCredential(ctx, "b.com", a.Login), store.ErrNotFound, "DeleteCredential through another domain")
	mustOK(t, r.DeleteCredential(ctx, "a.com", a.Login), "DeleteCredential")
	mustIs(t, r.DeleteCredential(ctx, "a.com", a.Login), store.ErrNotFound, "second DeleteCredential")
	mustCredentials(t, r, "a.com", 0, 10, 1, b)
}

// testCredentialsAtomic: a create with one used login stores none.
func testCredentialsAtomic(t *testing.T, r store.Regional) {
	a, b := credential("a.com", "bob", 1), credential("a.com", "alice", 2)
	mustOK(t, r.CreateCredentials(ctx, []store.Credential{a}), "CreateCredentials")
	mustIs(t, r.CreateCredentials(ctx, []store.Credential{b, a}), store.ErrConflict, "CreateCredentials with a used login")
	mustCredentials(t, r, "a.com", 0, 10, 1, a)
}

func testDeleteCredentials(t *testing.T, r store.Regional) {
	pm, x, y, other := credential("a.com", "postmaster", 1), credential("a.com", "x", 2), credential("a.com", "y", 3), credential("b.com", "x", 4)
	mustOK(t, r.CreateCredentials(ctx, []store.Credential{pm, x, y, other}), "CreateCredentials")
	n, err := r.DeleteCredentials(ctx, "a.com", pm.Login)
	mustOK(t, err, "DeleteCredentials")
	if n != 2 {
		t.Fatalf("DeleteCredentials removed %d, want 2", n)
	}
	mustCredentials(t, r, "a.com", 0, 10, 1, pm)
	mustCredentials(t, r, "b.com", 0, 10, 1, other)
	n, err = r.DeleteCredentials(ctx, "b.com", "")
	mustOK(t, err, "DeleteCredentials all")
	if n != 1 {
		t.Fatalf("DeleteCredentials removed %d, want 1", n)
	}
	mustCredentials(t, r, "b.com", 0, 10, 0)
}

func route(id string, priority, n int) store.Route {
	return store.Route{ID: id, Priority: priority, Description: "route " + id,
		Expression: `match_recipient(".*@` + id + `.com")`, Actions: []string{`forward("https://h/` + id + `")`, "stop()"},
		CreatedAt: at(n), AccountID: "sub-1"}
}

func mustRoutes(t *testing.T, r store.Regional, skip, limit, total int, want ...store.Route) {
	t.Helper()
	got, n, err := r.Routes(ctx, skip, limit)
	what := fmt.Sprintf("Routes(%d, %d)", skip, limit)
	mustOK(t, err, what)
	if n != total {
		t.Fatalf("%s: total %d, want %d", what, n, total)
	}
	if want == nil {
		want = []store.Route{}
	}
	if got == nil {
		got = []store.Route{}
	}
	mustEqual(t, what, want, got)
}

func testRoutes(t *testing.T, r store.Regional) {
	a := route("a", 3, 1)
	requireAllSet(t, a)
	mustOK(t, r.CreateRoute(ctx, a), "CreateRoute")
	mustIs(t, r.CreateRoute(ctx, a), store.ErrConflict, "CreateRoute with a used id")
	got, err := r.Route(ctx, "a")
	mustOK(t, err, "Route")
	mustEqual(t, "Route", a, got)
	_, err = r.Route(ctx, "b")
	mustIs(t, err, store.ErrNotFound, "Route of an unknown id")

	u := store.Route{ID: "a", Priority: 7, Description: "changed", Expression: "catch_all()", Actions: []string{}, CreatedAt: a.CreatedAt,
		AccountID: a.AccountID}
	mustOK(t, r.UpdateRoute(ctx, u), "UpdateRoute")
	got, _ = r.Route(ctx, "a")
	mustEqual(t, "Route after UpdateRoute", u, got)
	mustIs(t, r.UpdateRoute(ctx, route("b", 0, 0)), store.ErrNotFound, "UpdateRoute of an unknown id")
	mustOK(t, r.DeleteRoute(ctx, "a"), "DeleteRoute")
	mustIs(t, r.DeleteRoute(ctx, "a"), store.ErrNotFound, "second DeleteRoute")
	mustRoutes(t, r, 0, 10, 0)
}

// testRouteOrder: routes list by priority, then creation, then id.
func testRouteOrder(t *testing.T, r store.Regional) {
	rs := []store.Route{route("e", 0, 5), route("d", 1, 1), route("c", 0, 2), route("b", 0, 2), route("a", 2, 0)}
	for _, rt := range rs {
		mustOK(t, r.CreateRoute(ctx, rt), "CreateRoute "+rt.ID)
	}
	mustRoutes(t, r, 0, 10, 5, rs[3], rs[2], rs[0], rs[1], rs[4])
	mustRoutes(t, r, 1, 2, 5, rs[2], rs[0])
	mustRoutes(t, r, 5, 2, 5)
}

func inboundMessage(key, domain string, n int) store.InboundMessage {
	return store.InboundMessage{Key: key, Domain: domain, Sender: "from@sender.example", Recipients: []string{"a@" + domain, "b@" + domain},
		Helo: "mail.sender.example", ClientIP: "192.0.2.7", TLS: true, Body: []byte("Subject: hi\r\n\r\n\x00\xff body " + key + "\r\n"),
		ReceivedAt: at(n)}
}

func mustInbound(t *testing.T, r store.Regional, want store.InboundMessage) {
	t.Helper()
	got, err := r.InboundMessage(ctx, want.Key)
	mustOK(t, err, "InboundMessage "+want.Key)
	mustEqual(t, "InboundMessage "+want.Key, want, got)
}

func mustNoInbound(t *testing.T, r store.Regional, key string) {
	t.Helper()
	_, err := r.InboundMessage(ctx, key)
	mustIs(t, err, store.ErrNotFound, "InboundMessage "+key)
}

func receive(t *testing.T, r store.Regional, m store.InboundMessage) int64 {
	t.Helper()
	id, err := r.ReceiveInbound(ctx, m)
	mustOK(t, err, "ReceiveInbound "+m.Key)
	return id
}

// testInboundLeasedAtReceipt: a message received with a lease is not
// claimed by others until the lease ends, and counts its first attempt.
func testInboundLeasedAtReceipt(t *testing.T, r store.Regional) {
	m := inboundMessage("k1", "a.com", 1)
	m.LeaseOwner, m.LeaseUntil = "node-0", at(61)
	id := receive(t, r, m)
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	mustInbound(t, r, m)
	if jobs := claimInbound(t, r, at(60), 10); len(jobs) != 0 {
		t.Fatalf("a job leased at receipt was claimed: %+v", jobs)
	}
	jobs := claimInbound(t, r, at(61), 10)
	if len(jobs) != 1 || jobs[0].ID != id || jobs[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v, want job %d at its second attempt", jobs, id)
	}
}

func claimInbound(t *testing.T, r store.Regional, now time.Time, limit int) []store.InboundJob {
	t.Helper()
	jobs, err := r.ClaimInbound(ctx, store.Claim{Now: now, Lease: time.Minute, Owner: "node-1", Limit: limit})
	mustOK(t, err, "ClaimInbound")
	return jobs
}

func testInboundRoundTrip(t *testing.T, r store.Regional) {
	m := inboundMessage("k1", "a.com", 1)
	requireAllSet(t, m, "LeaseOwner", "LeaseUntil") // testInboundLeasedAtReceipt covers those
	id, err := r.ReceiveInbound(ctx, m)
	mustOK(t, err, "ReceiveInbound")
	mustInbound(t, r, m)
	mustNoInbound(t, r, "nope")
	due, err := r.NextInboundDue(ctx)
	mustOK(t, err, "NextInboundDue")
	if !due.Equal(m.ReceivedAt) {
		t.Fatalf("NextInboundDue = %v, want %v", due, m.ReceivedAt)
	}
	if jobs := claimInbound(t, r, at(0), 10); len(jobs) != 0 {
		t.Fatalf("claimed %d jobs before they were due", len(jobs))
	}
	jobs := claimInbound(t, r, at(1), 10)
	if len(jobs) != 1 || jobs[0].ID != id {
		t.Fatalf("claimed %+v, want the job ReceiveInbound returned (%d)", jobs, id)
	}
	want := store.InboundJob{ID: jobs[0].ID, Kind: store.InboundRoute, MessageKey: "k1", Domain: "a.com", Payload: []byte("{}"),
		Attempts: 1, NextAttemptAt: at(1), LeaseUntil: at(1).Add(time.Minute), CreatedAt: at(1)}
	mustEqual(t, "claimed job", []store.InboundJob{want}, jobs)
	if again := claimInbound(t, r, at(2), 10); len(again) != 0 {
		t.Fatalf("a leased job was claimed again: %+v", again)
	}
	mustOK(t, r.RenewInboundLeases(ctx, "node-1", at(200)), "RenewInboundLeases")
	if again := claimInbound(t, r, at(100), 10); len(again) != 0 {
		t.Fatalf("a renewed lease ended early: %+v", again)
	}
	mustOK(t, r.ReleaseInbound(ctx, []int64{want.ID}, at(3)), "ReleaseInbound")
	jobs = claimInbound(t, r, at(3), 10)
	if len(jobs) != 1 || jobs[0].Attempts != 1 {
		t.Fatalf("after ReleaseInbound: %+v, want the job with 1 attempt", jobs)
	}
}

// testInboundFinish: finishing a route job writes its follow-ups, stored
// copies, events and new body atomically; the message goes once the last
// job that needs it is done.
func testInboundFinish(t *testing.T, r store.Regional) {
	m := inboundMessage("k1", "a.com", 1)
	receive(t, r, m)
	job := claimInbound(t, r, at(1), 10)[0]
	stored := message("a.com", "stored1", 1)
	ev := event(stored, "stored", "a@a.com", at(2))
	post := store.InboundJob{Kind: store.InboundPost, MessageKey: "k1", Domain: "a.com", Payload: []byte(`{"url":"https://x"}`),
		NextAttemptAt: at(2), CreatedAt: at(2)}
	m.Body = []byte("Authentication-Results: x\r\n" + string(m.Body))
	mustOK(t, r.FinishInbound(ctx, []store.InboundResult{{JobID: job.ID, MessageKey: "k1", Done: true,
		Jobs: []store.InboundJob{post}, Stored: []store.Message{stored}, Events: []store.Event{ev}, Body: m.Body}}), "FinishInbound")
	mustInbound(t, r, m) // the post job still needs it
	mustMessage(t, r, stored)
	mustEvents(t, r, eventsOf(stored), ev)

	jobs := claimInbound(t, r, at(2), 10)
	post.ID, post.Attempts, post.LeaseUntil = jobs[0].ID, 1, at(2).Add(time.Minute)
	mustEqual(t, "follow-up job", []store.InboundJob{post}, jobs)
	mustOK(t, r.FinishInbound(ctx, []store.InboundResult{{JobID: post.ID, MessageKey: "k1", Done: true}}), "FinishInbound post")
	mustNoInbound(t, r, "k1")
	mustMessage(t, r, stored) // stored copies live on their own
}

func testInboundRetry(t *testing.T, r store.Regional) {
	m := inboundMessage("k1", "a.com", 1)
	receive(t, r, m)
	job := claimInbound(t, r, at(1), 10)[0]
	mustOK(t, r.FinishInbound(ctx, []store.InboundResult{{JobID: job.ID, MessageKey: "k1", NextAttemptAt: at(60),
		LastError: "503 from https://x"}}), "FinishInbound retry")
	mustInbound(t, r, m)
	due, err := r.NextInboundDue(ctx)
	mustOK(t, err, "NextInboundDue")
	if !due.Equal(at(60)) {
		t.Fatalf("NextInboundDue = %v, want %v", due, at(60))
	}
	if jobs := claimInbound(t, r, at(59), 10); len(jobs) != 0 {
		t.Fatalf("claimed a job before its retry time: %+v", jobs)
	}
	jobs := claimInbound(t, r, at(60), 10)
	if len(jobs) != 1 || jobs[0].Attempts != 2 || jobs[0].LastError != "503 from https://x" {
		t.Fatalf("retried job: %+v, want attempt 2 with its last error", jobs)
	}
}

func testInboundDomainDeleted(t *testing.T, r store.Regional) {
	createDomain(t, r, fullDomain("a.com"), nil)
	createDomain(t, r, fullDomain("b.com"), nil)
	receive(t, r, inboundMessage("k1", "a.com", 1))
	receive(t, r, inboundMessage("k2", "b.com", 1))
	mustOK(t, r.DeleteDomain(ctx, "a.com"), "DeleteDomain")
	mustNoInbound(t, r, "k1")
	jobs := claimInbound(t, r, at(1), 10)
	if len(jobs) != 1 || jobs[0].MessageKey != "k2" {
		t.Fatalf("jobs after DeleteDomain: %+v, want only k2's", jobs)
	}
}
