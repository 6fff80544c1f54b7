package storetest

import (
	"fmt"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

var suppressionTests = []regionalTest{
	{"RoundTrip", testSuppressionRoundTrip},
	{"Upsert", testSuppressionUpsert},
	{"Paging", testSuppressionPaging},
	{"Delete", testSuppressionDelete},
	{"Match", testSuppressionMatch},
	{"AcceptScreen", testAcceptScreen},
	{"CompleteBounce", testCompleteBounce},
	{"Imports", testImports},
	{"Unsubscribe", testUnsubscribe},
}

func bounce(domain, addr string, n int) store.Suppression {
	return store.Suppression{Domain: domain, List: store.Bounces, Address: addr, Code: "550",
		Error: "No such mailbox " + addr, CreatedAt: at(n)}
}

func unsubscribe(domain, addr string, n int, tags ...string) store.Suppression {
	return store.Suppression{Domain: domain, List: store.Unsubscribes, Address: addr, Tags: tags, CreatedAt: at(n)}
}

func complaint(domain, addr string, n int) store.Suppression {
	return store.Suppression{Domain: domain, List: store.Complaints, Address: addr, Count: 1, CreatedAt: at(n)}
}

func allow(domain, value, typ string, n int) store.Suppression {
	return store.Suppression{Domain: domain, List: store.Allowlist, Address: value, Type: typ,
		Reason: "trusted " + value, CreatedAt: at(n)}
}

func mustSuppression(t *testing.T, r store.Regional, want store.Suppression) {
	t.Helper()
	got, err := r.Suppression(ctx, want.Domain, want.List, want.Address)
	what := fmt.Sprintf("Suppression(%s %s)", want.List, want.Address)
	mustOK(t, err, what)
	mustEqual(t, what, want, got)
}

func mustNoSuppression(t *testing.T, r store.Regional, domain, list, addr string) {
	t.Helper()
	_, err := r.Suppression(ctx, domain, list, addr)
	mustIs(t, err, store.ErrNotFound, "Suppression "+list+" "+addr)
}

func testSuppressionRoundTrip(t *testing.T, r store.Regional) {
	recs := []store.Suppression{bounce("a.com", "bob@x.org", 1), unsubscribe("a.com", "bob@x.org", 2, "*", "news"),
		complaint("a.com", "carol@y.org", 3), allow("a.com", "trusted.org", "domain", 4),
		bounce("b.com", "bob@x.org", 5)}
	mustOK(t, r.PutSuppressions(ctx, recs), "PutSuppressions")
	for _, s := range recs {
		mustSuppression(t, r, s)
	}
	mustNoSuppression(t, r, "a.com", store.Complaints, "bob@x.org")
	mustNoSuppression(t, r, "c.com", store.Bounces, "bob@x.org")
}

// testSuppressionUpsert checks what adding an existing address does: a
// bounce is replaced, an unsubscribe gains tags, a complaint counts up,
// also for duplicates within one call.
func testSuppressionUpsert(t *testing.T, r store.Regional) {
	mustOK(t, r.PutSuppressions(ctx, []store.Suppression{bounce("a.com", "bob@x.org", 1),
		unsubscribe("a.com", "bob@x.org", 1, "news"), complaint("a.com", "bob@x.org", 1)}), "PutSuppressions")
	b := bounce("a.com", "bob@x.org", 9)
	b.Code, b.Error = "554", "Blocked"
	mustOK(t, r.PutSuppressions(ctx, []store.Suppression{b, unsubscribe("a.com", "bob@x.org", 9, "promo", "news"),
		complaint("a.com", "bob@x.org", 8), complaint("a.com", "bob@x.org", 9),
		unsubscribe("a.com", "bob@x.org", 9, "*")}), "PutSuppressions again")
	mustSuppression(t, r, b)
	mustSuppression(t, r, unsubscribe("a.com", "bob@x.org", 9, "news", "promo", "*"))
	c := complaint("a.com", "bob@x.org", 9)
	c.Count = 3
	mustSuppression(t, r, c)
}

func mustSuppressionPage(t *testing.T, r store.Regional, q store.SuppressionQuery, want ...string) {
	t.Helper()
	got, err := r.Suppressions(ctx, q)
	what := fmt.Sprintf("Suppressions(%+v)", q)
	mustOK(t, err, what)
	var addrs []string
	for _, s := range got {
		addrs = append(addrs, s.Address)
	}
	mustEqual(t, what, want, addrs)
}

func testSuppressionPaging(t *testing.T, r store.Regional) {
	var recs []store.Suppression
	for _, a := range []string{"e@x", "a@x", "c@x", "ab@x", "b@x", "d@x", "a.b@x"} {
		recs = append(recs, bounce("a.com", a, 1))
	}
	recs = append(recs, bounce("b.com", "0@x", 1), complaint("a.com", "0@x", 1))
	mustOK(t, r.PutSuppressions(ctx, recs), "PutSuppressions")
	q := store.SuppressionQuery{Domain: "a.com", List: store.Bounces, Limit: 3}
	mustSuppressionPage(t, r, q, "a.b@x", "a@x", "ab@x")
	q.After = "ab@x"
	mustSuppressionPage(t, r, q, "b@x", "c@x", "d@x")
	q.After = "d@x"
	mustSuppressionPage(t, r, q, "e@x")
	q.After = "e@x"
	mustSuppressionPage(t, r, q)
	q.After, q.Before = "", "d@x"
	mustSuppressionPage(t, r, q, "ab@x", "b@x", "c@x")
	q.Before, q.Last = "", true
	mustSuppressionPage(t, r, q, "c@x", "d@x", "e@x")
	mustSuppressionPage(t, r, store.SuppressionQuery{Domain: "a.com", List: store.Bounces, Term: "a", Limit: 10}, "a.b@x", "a@x", "ab@x")
	mustSuppressionPage(t, r, store.SuppressionQuery{Domain: "a.com", List: store.Bounces, Term: "a@", Limit: 10}, "a@x")
	mustSuppressionPage(t, r, store.SuppressionQuery{Domain: "a.com", List: store.Bounces, Term: "a", After: "a@x", Limit: 10}, "ab@x")
}

func testSuppressionDelete(t *testing.T, r store.Regional) {
	mustOK(t, r.PutSuppressions(ctx, []store.Suppression{bounce("a.com", "bob@x.org", 1), bounce("a.com", "carol@x.org", 1),
		bounce("b.com", "bob@x.org", 1), unsubscribe("a.com", "bob@x.org", 1, "*", "news")}), "PutSuppressions")
	mustOK(t, r.DeleteSuppression(ctx, "a.com", store.Bounces, "bob@x.org"), "DeleteSuppression")
	mustNoSuppression(t, r, "a.com", store.Bounces, "bob@x.org")
	mustSuppression(t, r, bounce("b.com", "bob@x.org", 1))
	mustIs(t, r.DeleteSuppression(ctx, "a.com", store.Bounces, "bob@x.org"), store.ErrNotFound, "DeleteSuppression again")

	mustIs(t, r.RemoveUnsubscribeTag(ctx, "a.com", "bob@x.org", "promo"), store.ErrNotFound, "RemoveUnsubscribeTag unknown tag")
	mustIs(t, r.RemoveUnsubscribeTag(ctx, "a.com", "nobody@x.org", "*"), store.ErrNotFound, "RemoveUnsubscribeTag unknown address")
	mustOK(t, r.RemoveUnsubscribeTag(ctx, "a.com", "bob@x.org", "*"), "RemoveUnsubscribeTag")
	mustSuppression(t, r, unsubscribe("a.com", "bob@x.org", 1, "news"))
	mustOK(t, r.RemoveUnsubscribeTag(ctx, "a.com", "bob@x.org", "news"), "RemoveUnsubscribeTag last")
	mustNoSuppression(t, r, "a.com", store.Unsubscribes, "bob@x.org")

	mustOK(t, r.ClearSuppressions(ctx, "a.com", store.Bounces), "ClearSuppressions")
	mustNoSuppression(t, r, "a.com", store.Bounces, "carol@x.org")
	mustSuppression(t, r, bounce("b.com", "bob@x.org", 1))
}

func testSuppressionMatch(t *testing.T, r store.Regional) {
	recs := []store.Suppression{bounce("a.com", "bob@x.org", 1), unsubscribe("a.com", "bob@x.org", 1, "news"),
		allow("a.com", "x.org", "domain", 1), complaint("a.com", "carol@y.org", 1), bounce("b.com", "dave@y.org", 1),
		bounce("a.com", "erin@z.org", 1)}
	mustOK(t, r.PutSuppressions(ctx, recs), "PutSuppressions")
	got, err := r.MatchSuppressions(ctx, "a.com", []string{"bob@x.org", "carol@y.org", "dave@y.org"})
	mustOK(t, err, "MatchSuppressions")
	want := map[string]bool{}
	for _, s := range recs[:4] {
		want[s.List+" "+s.Address] = true
	}
	if len(got) != len(want) {
		t.Fatalf("MatchSuppressions = %+v, want %v", got, want)
	}
	for _, s := range got {
		if !want[s.List+" "+s.Address] {
			t.Fatalf("MatchSuppressions returned %s %s, want only %v", s.List, s.Address, want)
		}
	}
	// Many addresses, more than one IN list holds.
	var many []string
	for i := range 1000 {
		many = append(many, fmt.Sprintf("u%d@q.org", i))
	}
	got, err = r.MatchSuppressions(ctx, "a.com", append(many, "erin@z.org"))
	mustOK(t, err, "MatchSuppressions of many")
	if len(got) != 1 || got[0].Address != "erin@z.org" {
		t.Fatalf("MatchSuppressions of many = %+v, want erin@z.org's bounce", got)
	}
}

// testAcceptScreen checks that screened jobs are not queued and that
// their events follow the accepted ones, in the accept transaction.
func testAcceptScreen(t *testing.T, r store.Regional) {
	mustOK(t, r.PutSuppressions(ctx, []store.Suppression{bounce("a.com", "bob@x.org", 1)}), "PutSuppressions")
	m := message("a.com", "m1", 10)
	a := submission(m, "Bob@X.org", "carol@y.org")
	var seen []store.Suppression
	failed := event(m, "failed", "Bob@X.org", at(10))
	a.Screen = func(i int, hits []store.Suppression) *store.Event {
		if i != 0 {
			t.Errorf("Screen called for job %d with %+v; only bob has a suppression", i, hits)
		}
		seen = hits
		return &failed
	}
	accept(t, r, a)
	mustJobs(t, r, m, a.Jobs[1])
	mustEvents(t, r, eventsOf(m), a.Events[0], a.Events[1], failed)
	mustEqual(t, "hits given to Screen", []store.Suppression{bounce("a.com", "bob@x.org", 1)}, seen)

	// A Screen that lets everything through queues every job.
	m2 := message("a.com", "m2", 10)
	a2 := submission(m2, "bob@x.org")
	a2.Screen = func(int, []store.Suppression) *store.Event { return nil }
	accept(t, r, a2)
	mustAccepted(t, r, a2)
}

func testCompleteBounce(t *testing.T, r store.Regional) {
	mustOK(t, r.PutSuppressions(ctx, []store.Suppression{allow("a.com", "ok@x.org", "address", 1),
		allow("a.com", "good.org", "domain", 1)}), "PutSuppressions")
	m := message("a.com", "m1", 0)
	rcpts := []string{"bad@x.org", "ok@x.org", "any@good.org"}
	var jobs []store.Job
	for _, rc := range rcpts {
		jobs = append(jobs, job(m, rc, at(10)))
	}
	jobs = queued(t, r, m, jobs...)
	c := claim(at(20))
	cl := mustClaim(t, r, c, claimed(jobs[0], c), claimed(jobs[1], c), claimed(jobs[2], c))
	var outs []store.Outcome
	for i, rc := range rcpts {
		b := bounce("a.com", rc, 21)
		outs = append(outs, store.Outcome{JobID: cl[i].ID, Done: true, Bounce: &b,
			Events: []store.Event{event(m, "failed", rc, at(21))}})
	}
	mustOK(t, r.Complete(ctx, outs), "Complete")
	mustSuppression(t, r, bounce("a.com", "bad@x.org", 21))
	mustNoSuppression(t, r, "a.com", store.Bounces, "ok@x.org")
	mustNoSuppression(t, r, "a.com", store.Bounces, "any@good.org")
}

func testImports(t *testing.T, r store.Regional) {
	im := store.Import{ID: "imp1", Domain: "a.com", List: store.Bounces, State: store.ImportPending,
		Data: []byte("address\nbob@x.org\n"), Errors: []store.ImportError{}, CreatedAt: at(1), UpdatedAt: at(1)}
	mustOK(t, r.CreateImport(ctx, im), "CreateImport")
	later := im
	later.ID, later.CreatedAt = "imp2", at(2)
	mustOK(t, r.CreateImport(ctx, later), "CreateImport 2")

	got, err := r.ClaimImport(ctx, "n1", at(10), at(70))
	mustOK(t, err, "ClaimImport")
	want := im
	want.State, want.Owner, want.LeaseUntil = store.ImportRunning, "n1", at(70)
	if got == nil {
		t.Fatal("ClaimImport found nothing")
	}
	mustEqual(t, "claimed import", want, *got)

	step := store.ImportStep{ID: "imp1", Owner: "n1", Records: []store.Suppression{bounce("a.com", "bob@x.org", 1)},
		Rows: 2, Failed: 1, Errors: []store.ImportError{{Row: 2, Message: "bad address"}}, Lease: at(80), Now: at(11)}
	mustOK(t, r.StepImport(ctx, step), "StepImport")
	mustSuppression(t, r, bounce("a.com", "bob@x.org", 1))
	wrong := step
	wrong.Owner = "n2"
	mustIs(t, r.StepImport(ctx, wrong), store.ErrNotFound, "StepImport by another owner")

	// n1 dies: once its lease ends imp1, the oldest, is claimed again and
	// goes on from the row n1 reached.
	got, err = r.ClaimImport(ctx, "n2", at(90), at(150))
	mustOK(t, err, "ClaimImport after the lease")
	if got == nil || got.ID != "imp1" || got.Rows != 2 || got.Owner != "n2" {
		t.Fatalf("ClaimImport after the lease = %+v, want imp1 at row 2 for n2", got)
	}
	mustOK(t, r.StepImport(ctx, store.ImportStep{ID: "imp1", Owner: "n2", Rows: 3, Finish: store.ImportDone,
		Lease: at(150), Now: at(91)}), "StepImport finish")
	done, err := r.Import(ctx, "a.com", "imp1")
	mustOK(t, err, "Import")
	mustEqual(t, "finished import", store.Import{ID: "imp1", Domain: "a.com", List: store.Bounces, State: store.ImportDone,
		Rows: 3, Added: 1, Failed: 1, Errors: step.Errors, LeaseUntil: at(150), Owner: "n2", CreatedAt: at(1), UpdatedAt: at(91)}, done)

	next, err := r.ClaimImport(ctx, "n2", at(91), at(150))
	mustOK(t, err, "ClaimImport next")
	if next == nil || next.ID != "imp2" {
		t.Fatalf("ClaimImport next = %+v, want imp2", next)
	}
	none, err := r.ClaimImport(ctx, "n3", at(92), at(150))
	mustOK(t, err, "ClaimImport of nothing")
	if none != nil {
		t.Fatalf("ClaimImport while imp2 is leased = %+v, want nil", none)
	}
	list, err := r.Imports(ctx, "a.com", 10)
	mustOK(t, err, "Imports")
	if len(list) != 2 || list[0].ID != "imp2" || list[1].ID != "imp1" || list[0].Data != nil {
		t.Fatalf("Imports = %+v, want imp2 then imp1 without data", list)
	}
	_, err = r.Import(ctx, "b.com", "imp1")
	mustIs(t, err, store.ErrNotFound, "Import of another domain")
}

// testUnsubscribe: a recipient's own unsubscribe writes the record and its
// event together, merges tags with what is there, and writes nothing when
// the address is already unsubscribed from those tags.
func testUnsubscribe(t *testing.T, r store.Regional) {
	m := message("a.com", "m1", 0)
	step := func(n int, want bool, tags ...string) store.Event {
		t.Helper()
		ev := event(m, "unsubscribed", "bob@x.org", at(n))
		added, err := r.Unsubscribe(ctx, unsubscribe("a.com", "bob@x.org", n, tags...), ev)
		mustOK(t, err, "Unsubscribe")
		if added != want {
			t.Fatalf("Unsubscribe %v at %d: added = %v, want %v", tags, n, added, want)
		}
		return ev
	}
	e1 := step(1, true, "news")
	step(2, false, "news")
	e3 := step(3, true, "promo", "news")
	mustSuppression(t, r, unsubscribe("a.com", "bob@x.org", 3, "news", "promo"))
	e4 := step(4, true, "*")
	step(5, false, "other")
	mustSuppression(t, r, unsubscribe("a.com", "bob@x.org", 4, "news", "promo", "*"))
	mustEvents(t, r, store.EventQuery{Domain: "a.com", Ascending: true, Limit: 10}, e1, e3, e4)
	mustNoSuppression(t, r, "b.com", store.Unsubscribes, "bob@x.org")
}
