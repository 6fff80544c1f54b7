package storetest

import (
	"fmt"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

// subaccountTests run against the global store; accountTests against the
// regional one (the owner column of account-level rows).
var subaccountTests = []struct {
	name string
	fn   func(*testing.T, store.Global)
}{
	{"Subaccounts", testSubaccounts},
	{"SubaccountKeys", testSubaccountKeys},
}

var accountTests = []regionalTest{
	{"Domains", testAccountDomains},
	{"Routes", testAccountRoutes},
	{"Lists", testAccountLists},
}

func subaccount(id, name string, n int) store.Subaccount {
	return store.Subaccount{ID: id, Name: name, Status: store.SubaccountOpen, CreatedAt: at(n), UpdatedAt: at(n)}
}

func mustSubaccounts(t *testing.T, g store.Global, f store.SubaccountFilter, skip, limit, total int, want ...store.Subaccount) {
	t.Helper()
	what := fmt.Sprintf("Subaccounts(%+v, %d, %d)", f, skip, limit)
	got, n, err := g.Subaccounts(ctx, f, skip, limit)
	mustOK(t, err, what)
	if n != total {
		t.Fatalf("%s: total %d, want %d", what, n, total)
	}
	if want == nil {
		want = []store.Subaccount{}
	}
	if got == nil {
		got = []store.Subaccount{}
	}
	mustEqual(t, what, want, got)
}

func testSubaccounts(t *testing.T, g store.Global) {
	bootstrap(t, g)
	a, b, c := subaccount("sa", "Acme Shop", 1), subaccount("sb", "Beta 100%_off", 2), subaccount("sc", "acme blog", 3)
	requireAllSet(t, a)
	for _, s := range []store.Subaccount{a, b, c} {
		mustOK(t, g.CreateSubaccount(ctx, s), "CreateSubaccount "+s.ID)
	}
	mustIs(t, g.CreateSubaccount(ctx, a), store.ErrConflict, "CreateSubaccount with a used id")
	got, err := g.Subaccount(ctx, "sb")
	mustOK(t, err, "Subaccount")
	mustEqual(t, "Subaccount", b, got)
	_, err = g.Subaccount(ctx, "nope")
	mustIs(t, err, store.ErrNotFound, "Subaccount of an unknown id")

	mustSubaccounts(t, g, store.SubaccountFilter{}, 0, 10, 3, a, b, c)
	mustSubaccounts(t, g, store.SubaccountFilter{}, 1, 1, 3, b)
	mustSubaccounts(t, g, store.SubaccountFilter{Desc: true}, 0, 2, 3, c, b)
	mustSubaccounts(t, g, store.SubaccountFilter{Name: "ACME"}, 0, 10, 2, a, c)
	// LIKE's wildcards in a name filter are plain characters.
	mustSubaccounts(t, g, store.SubaccountFilter{Name: "%_"}, 0, 10, 1, b)
	mustSubaccounts(t, g, store.SubaccountFilter{Name: "_"}, 0, 10, 1, b)

	off, err := g.SetSubaccountStatus(ctx, "sb", store.SubaccountDisabled, at(9))
	mustOK(t, err, "SetSubaccountStatus")
	b.Status, b.UpdatedAt = store.SubaccountDisabled, at(9)
	mustEqual(t, "SetSubaccountStatus", b, off)
	mustSubaccounts(t, g, store.SubaccountFilter{Status: store.SubaccountDisabled}, 0, 10, 1, b)
	mustSubaccounts(t, g, store.SubaccountFilter{Status: store.SubaccountOpen}, 0, 10, 2, a, c)
	_, err = g.SetSubaccountStatus(ctx, "nope", store.SubaccountOpen, at(10))
	mustIs(t, err, store.ErrNotFound, "SetSubaccountStatus of an unknown id")
}

// testSubaccountKeys: a subaccount's keys carry its id (no account row of
// its own is needed) and the account filter keeps each account's keys.
func testSubaccountKeys(t *testing.T, g store.Global) {
	primary := bootstrap(t, g)
	mustOK(t, g.CreateSubaccount(ctx, subaccount("sa", "A", 1)), "CreateSubaccount")
	own, sub := key("u1", 1), key("s1", 2)
	sub.AccountID = "sa"
	subSend := sendingKey("s2", "sub.example.com", 3)
	subSend.AccountID = "sa"
	createKeys(t, g, own, sub, subSend)
	mustKeys(t, g, store.KeyFilter{AccountID: acctID}, primary, own)
	mustKeys(t, g, store.KeyFilter{AccountID: "sa"}, sub, subSend)
	mustKeys(t, g, store.KeyFilter{AccountID: "sa", Kind: store.KindDomain}, subSend)
	mustKeys(t, g, store.KeyFilter{AccountID: "other"})
	got, err := g.KeyByHash(ctx, sub.Hash)
	mustOK(t, err, "KeyByHash of a subaccount's key")
	mustEqual(t, "KeyByHash", sub, got)
}

func testAccountDomains(t *testing.T, r store.Regional) {
	a, b, c := fullDomain("a.com"), fullDomain("b.com"), fullDomain("c.com")
	a.AccountID, b.AccountID, c.AccountID = "", "sa", ""
	for _, d := range []store.Domain{a, b, c} {
		createDomain(t, r, d, nil)
	}
	for _, tc := range []struct {
		owner       string
		skip, limit int
		total       int
		want        []store.Domain
	}{
		{"", 0, 10, 2, []store.Domain{a, c}},
		{"", 1, 10, 2, []store.Domain{c}},
		{"sa", 0, 10, 1, []store.Domain{b}},
		{"sb", 0, 10, 0, nil},
	} {
		what := fmt.Sprintf("AccountDomains(%q, %d, %d)", tc.owner, tc.skip, tc.limit)
		got, n, err := r.AccountDomains(ctx, tc.owner, tc.skip, tc.limit)
		mustOK(t, err, what)
		if n != tc.total {
			t.Fatalf("%s: total %d, want %d", what, n, tc.total)
		}
		mustEqual(t, what, tc.want, got)
	}
	mustPage(t, r, 0, 10, 3, a, b, c) // Domains still lists every account's
	// UpdateDomain never moves a domain to another account.
	moved := b
	moved.AccountID = ""
	mustOK(t, r.UpdateDomain(ctx, moved), "UpdateDomain")
	mustDomain(t, r, b)
}

func testAccountRoutes(t *testing.T, r store.Regional) {
	a, b, c := route("a", 0, 1), route("b", 0, 2), route("c", 0, 3)
	a.AccountID, b.AccountID, c.AccountID = "", "sa", ""
	for _, rt := range []store.Route{a, b, c} {
		mustOK(t, r.CreateRoute(ctx, rt), "CreateRoute "+rt.ID)
	}
	for _, tc := range []struct {
		owner string
		want  []store.Route
	}{{"", []store.Route{a, c}}, {"sa", []store.Route{b}}, {"sb", nil}} {
		got, n, err := r.AccountRoutes(ctx, tc.owner, 0, 10)
		what := fmt.Sprintf("AccountRoutes(%q)", tc.owner)
		mustOK(t, err, what)
		if n != len(tc.want) {
			t.Fatalf("%s: total %d, want %d", what, n, len(tc.want))
		}
		if got == nil {
			got = []store.Route{}
		}
		if tc.want == nil {
			tc.want = []store.Route{}
		}
		mustEqual(t, what, tc.want, got)
	}
	// UpdateRoute never moves a route to another account.
	moved := b
	moved.AccountID, moved.Priority = "", 9
	mustOK(t, r.UpdateRoute(ctx, moved), "UpdateRoute")
	got, err := r.Route(ctx, "b")
	mustOK(t, err, "Route")
	if got.AccountID != "sa" || got.Priority != 9 {
		t.Fatalf("Route after UpdateRoute = %+v, want owner sa and priority 9", got)
	}
}

func testAccountLists(t *testing.T, r store.Regional) {
	a, b, c := fullList("a@x.test"), fullList("b@x.test"), fullList("c@x.test")
	a.AccountID, b.AccountID, c.AccountID = "", "sa", ""
	for _, l := range []store.MailingList{a, b, c} {
		mustOK(t, r.CreateList(ctx, l), "CreateList "+l.Address)
	}
	got, n, err := r.AccountListsOffset(ctx, "", 0, 10)
	mustOK(t, err, "AccountListsOffset")
	if n != 2 {
		t.Fatalf("AccountListsOffset total %d, want 2", n)
	}
	mustEqual(t, "AccountListsOffset", []store.MailingList{a, c}, got)
	got, _, err = r.AccountListsOffset(ctx, "sa", 0, 10)
	mustOK(t, err, "AccountListsOffset sa")
	mustEqual(t, "AccountListsOffset sa", []store.MailingList{b}, got)
	page, err := r.AccountListsPage(ctx, "", store.PivotQuery{Pivot: "a@x.test", Limit: 10})
	mustOK(t, err, "AccountListsPage")
	mustEqual(t, "AccountListsPage after a", []store.MailingList{c}, page)
	page, err = r.AccountListsPage(ctx, "sa", store.PivotQuery{Limit: 10})
	mustOK(t, err, "AccountListsPage sa")
	mustEqual(t, "AccountListsPage sa", []store.MailingList{b}, page)
	// Lookups by address see every account's lists (addresses are unique),
	// and carry the owner for the callers to check.
	ls, err := r.ListsByAddress(ctx, []string{"b@x.test"})
	mustOK(t, err, "ListsByAddress")
	if len(ls) != 1 || ls[0].AccountID != "sa" {
		t.Fatalf("ListsByAddress = %+v, want b@x.test of sa", ls)
	}
	// Renaming keeps the owner.
	renamed := b
	renamed.Address, renamed.AccountID = "b2@x.test", ""
	mustOK(t, r.UpdateList(ctx, "b@x.test", renamed), "UpdateList")
	l, err := r.List(ctx, "b2@x.test")
	mustOK(t, err, "List")
	if l.AccountID != "sa" {
		t.Fatalf("List after rename: owner %q, want sa", l.AccountID)
	}
}
