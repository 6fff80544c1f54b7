package storetest

import (
	"fmt"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

var listTests = []regionalTest{
	{"RoundTrip", testListRoundTrip},
	{"Rename", testListRename},
	{"Members", testMembers},
	{"MemberPaging", testMemberPaging},
	{"Bulk", testMembersBulk},
}

func fullList(addr string) store.MailingList {
	return store.MailingList{Address: addr, Name: "Devs", Description: "the developers", AccessLevel: store.AccessMembers,
		ReplyPreference: store.ReplySender, CreatedAt: at(3), AccountID: "sub-1"}
}

func fullMember(list, addr string) store.Member {
	return store.Member{List: list, Address: addr, Name: "Bob Q. Public",
		Vars: map[string]any{"age": float64(42), "tags": []any{"x"}}, Subscribed: true}
}

func testListRoundTrip(t *testing.T, r store.Regional) {
	l := fullList("devs@a.test")
	requireAllSet(t, l, "MembersCount")
	mustOK(t, r.CreateList(ctx, l), "CreateList")
	mustIs(t, r.CreateList(ctx, l), store.ErrConflict, "CreateList again")
	mustOK(t, r.AddMember(ctx, fullMember(l.Address, "bob@b.test"), false), "AddMember")
	got, err := r.List(ctx, l.Address)
	mustOK(t, err, "List")
	l.MembersCount = 1
	mustEqual(t, "List", l, got)
	_, err = r.List(ctx, "nope@a.test")
	mustIs(t, err, store.ErrNotFound, "List missing")
	ls, err := r.ListsByAddress(ctx, []string{"x@y.test", l.Address})
	mustOK(t, err, "ListsByAddress")
	if len(ls) != 1 || ls[0].Address != l.Address || ls[0].AccessLevel != l.AccessLevel {
		t.Fatalf("ListsByAddress = %+v", ls)
	}
	all, total, err := r.ListsOffset(ctx, 0, 10)
	mustOK(t, err, "ListsOffset")
	if total != 1 || len(all) != 1 {
		t.Fatalf("ListsOffset = %d %+v", total, all)
	}
	mustOK(t, r.DeleteList(ctx, l.Address), "DeleteList")
	mustIs(t, r.DeleteList(ctx, l.Address), store.ErrNotFound, "DeleteList again")
	_, err = r.Member(ctx, l.Address, "bob@b.test")
	mustIs(t, err, store.ErrNotFound, "member of a deleted list")
}

func testListRename(t *testing.T, r store.Regional) {
	mustOK(t, r.CreateList(ctx, fullList("old@a.test")), "CreateList")
	mustOK(t, r.CreateList(ctx, fullList("taken@a.test")), "CreateList")
	mustOK(t, r.AddMember(ctx, fullMember("old@a.test", "bob@b.test"), false), "AddMember")
	l := fullList("new@a.test")
	l.Name, l.Description, l.AccessLevel, l.ReplyPreference = "N", "D", store.AccessEveryone, store.ReplyList
	mustOK(t, r.UpdateList(ctx, "old@a.test", l), "UpdateList")
	got, err := r.List(ctx, "new@a.test")
	mustOK(t, err, "List renamed")
	l.MembersCount = 1
	mustEqual(t, "renamed list", l, got)
	_, err = r.Member(ctx, "new@a.test", "bob@b.test")
	mustOK(t, err, "member moved with its list")
	mustIs(t, r.UpdateList(ctx, "new@a.test", fullList("taken@a.test")), store.ErrConflict, "rename onto a taken address")
	mustIs(t, r.UpdateList(ctx, "old@a.test", l), store.ErrNotFound, "update of the old address")
}

func testMembers(t *testing.T, r store.Regional) {
	const list = "l@a.test"
	mustIs(t, r.AddMember(ctx, fullMember(list, "x@b.test"), false), store.ErrNotFound, "member of a missing list")
	mustOK(t, r.CreateList(ctx, fullList(list)), "CreateList")
	m := fullMember(list, "bob@b.test")
	requireAllSet(t, m)
	mustOK(t, r.AddMember(ctx, m, false), "AddMember")
	got, err := r.Member(ctx, list, m.Address)
	mustOK(t, err, "Member")
	mustEqual(t, "Member", m, got)
	mustIs(t, r.AddMember(ctx, m, false), store.ErrConflict, "AddMember again")
	m.Name, m.Subscribed, m.Vars = "Robert", false, map[string]any{}
	mustOK(t, r.AddMember(ctx, m, true), "AddMember upsert")
	got, _ = r.Member(ctx, list, m.Address)
	mustEqual(t, "upserted member", m, got)
	m.Address, m.Subscribed = "rob@b.test", true
	mustOK(t, r.UpdateMember(ctx, "bob@b.test", m), "UpdateMember rename")
	got, err = r.Member(ctx, list, "rob@b.test")
	mustOK(t, err, "renamed member")
	mustEqual(t, "renamed member", m, got)
	mustIs(t, r.UpdateMember(ctx, "bob@b.test", m), store.ErrNotFound, "UpdateMember of the old address")
	mustOK(t, r.DeleteMember(ctx, list, "rob@b.test"), "DeleteMember")
	mustIs(t, r.DeleteMember(ctx, list, "rob@b.test"), store.ErrNotFound, "DeleteMember again")
}

func testMemberPaging(t *testing.T, r store.Regional) {
	const list = "l@a.test"
	mustOK(t, r.CreateList(ctx, fullList(list)), "CreateList")
	for i := range 10 {
		m := fullMember(list, fmt.Sprintf("m%d@b.test", i))
		m.Subscribed = i%2 == 0
		mustOK(t, r.AddMember(ctx, m, false), "AddMember")
	}
	yes := true
	page, err := r.MembersPage(ctx, list, store.MemberFilter{Subscribed: &yes}, store.PivotQuery{Limit: 2, Pivot: "m2@b.test"})
	mustOK(t, err, "MembersPage")
	if len(page) != 2 || page[0].Address != "m4@b.test" || page[1].Address != "m6@b.test" {
		t.Fatalf("MembersPage = %+v", page)
	}
	ms, total, err := r.MembersOffset(ctx, list, store.MemberFilter{}, 8, 5)
	mustOK(t, err, "MembersOffset")
	if total != 10 || len(ms) != 2 || ms[0].Address != "m8@b.test" {
		t.Fatalf("MembersOffset = %d %+v", total, ms)
	}
	var got []string
	for after := ""; ; {
		ms, err := r.SubscribedMembers(ctx, list, after, 2)
		mustOK(t, err, "SubscribedMembers")
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			got = append(got, m.Address)
		}
		after = ms[len(ms)-1].Address
	}
	if fmt.Sprint(got) != "[m0@b.test m2@b.test m4@b.test m6@b.test m8@b.test]" {
		t.Fatalf("SubscribedMembers = %v", got)
	}
}

func testMembersBulk(t *testing.T, r store.Regional) {
	const list = "l@a.test"
	mustOK(t, r.CreateList(ctx, fullList(list)), "CreateList")
	mustOK(t, r.AddMember(ctx, fullMember(list, "m0@b.test"), false), "AddMember")
	var ms []store.Member
	for i := range 3 {
		m := fullMember("", fmt.Sprintf("m%d@b.test", i))
		m.Name = "bulk"
		ms = append(ms, m)
	}
	n, err := r.AddMembers(ctx, list, ms, false)
	mustOK(t, err, "AddMembers")
	if n != 2 {
		t.Fatalf("AddMembers without upsert wrote %d, want 2", n)
	}
	if m, _ := r.Member(ctx, list, "m0@b.test"); m.Name == "bulk" {
		t.Fatalf("AddMembers without upsert replaced an existing member")
	}
	if _, err := r.AddMembers(ctx, list, ms, true); err != nil {
		t.Fatalf("AddMembers upsert: %v", err)
	}
	if m, _ := r.Member(ctx, list, "m0@b.test"); m.Name != "bulk" {
		t.Fatalf("AddMembers with upsert kept the old member: %+v", m)
	}
	_, err = r.AddMembers(ctx, "missing@a.test", ms, true)
	mustIs(t, err, store.ErrNotFound, "AddMembers to a missing list")
}
