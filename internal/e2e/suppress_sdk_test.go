package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/testutil"
)

// suppressDomain is the domain of the suppression API tests.
const suppressDomain = "lists.example.test"

// suppressEnv is a node on a fake clock with suppressDomain and a
// mailgun-go client for it.
type suppressEnv struct {
	App   *testutil.TestApp
	MG    *mailgun.MailgunImpl
	Clock *testutil.Clock
	PG    bool // on PostgreSQL, else the embedded SQLite
}

func startSuppressEnv(t *testing.T, pg bool) *suppressEnv {
	t.Helper()
	clock := testutil.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg, Seams: app.Seams{Now: clock.Now}})
	createDomain(t, ta, suppressDomain)
	mg := mailgun.NewMailgun(suppressDomain, ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")
	return &suppressEnv{App: ta, MG: mg, Clock: clock, PG: pg}
}

// onStores runs f on the embedded store and on PostgreSQL.
func onStores(t *testing.T, f func(t *testing.T, e *suppressEnv)) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			f(t, startSuppressEnv(t, pg))
		})
	}
}

var ctxb = context.Background()

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantSDKError fails t unless err is the status with a body holding text.
func wantSDKError(t *testing.T, err error, status int, text string) {
	t.Helper()
	var ue *mailgun.UnexpectedResponseError
	if !errors.As(err, &ue) || ue.Actual != status || !strings.Contains(string(ue.Data), text) {
		t.Fatalf("error = %v, want %d with %q", err, status, text)
	}
}

// allBounces lists every bounce through the SDK's iterator, limit a page.
func allBounces(t *testing.T, mg *mailgun.MailgunImpl, limit int) []mailgun.Bounce {
	t.Helper()
	it := mg.ListBounces(&mailgun.ListOptions{Limit: limit})
	var all, page []mailgun.Bounce
	for it.Next(ctxb, &page) {
		if len(page) > limit {
			t.Fatalf("a page of %d bounces, limit %d", len(page), limit)
		}
		all = append(all, page...)
	}
	must(t, it.Err(), "ListBounces")
	return all
}

func TestBouncesSDK(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, e *suppressEnv) {
		mg := e.MG
		now := e.Clock.Now()
		must(t, mg.AddBounce(ctxb, "Carol@Example.com", "554", "Mailbox full"), "AddBounce")
		must(t, mg.AddBounce(ctxb, "dave@example.com", "", ""), "AddBounce with defaults")
		// mailgun-go sends unset fields as "" and year-1 dates (docs/mailgun-contract.md §4.2).
		must(t, mg.AddBounces(ctxb, []mailgun.Bounce{{Address: "alice@example.com"},
			{Address: "bob@example.com", Code: "550", Error: "No such user",
				CreatedAt: mailgun.RFC2822Time(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))}}), "AddBounces")

		b, err := mg.GetBounce(ctxb, "carol@example.com")
		must(t, err, "GetBounce")
		if b.Code != "554" || b.Error != "Mailbox full" || b.Address != "carol@example.com" || !time.Time(b.CreatedAt).Equal(now) {
			t.Fatalf("GetBounce = %+v, want code 554, Mailbox full, created now", b)
		}
		for addr, code := range map[string]string{"dave@example.com": "550", "alice@example.com": "550"} {
			b, err := mg.GetBounce(ctxb, addr)
			must(t, err, "GetBounce "+addr)
			if b.Code != code || !time.Time(b.CreatedAt).Equal(now) {
				t.Fatalf("GetBounce(%s) = %+v, want code %s created now (the defaults)", addr, b, code)
			}
		}
		b, err = mg.GetBounce(ctxb, "bob@example.com")
		must(t, err, "GetBounce bob")
		if !time.Time(b.CreatedAt).Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("bob's created_at = %v, want the one given", time.Time(b.CreatedAt))
		}

		got := allBounces(t, mg, 3)
		var addrs []string
		for _, b := range got {
			addrs = append(addrs, b.Address)
		}
		want := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
		if !slices.Equal(addrs, want) {
			t.Fatalf("ListBounces = %v, want %v in order", addrs, want)
		}

		_, err = mg.GetBounce(ctxb, "nobody@example.com")
		wantSDKError(t, err, http.StatusNotFound, "Address not found in bounces table")
		must(t, mg.DeleteBounce(ctxb, "carol@example.com"), "DeleteBounce")
		_, err = mg.GetBounce(ctxb, "carol@example.com")
		wantSDKError(t, err, http.StatusNotFound, "Address not found in bounces table")
		wantSDKError(t, mg.DeleteBounce(ctxb, "carol@example.com"), http.StatusNotFound, "Address not found in bounces table")
		must(t, mg.DeleteBounceList(ctxb), "DeleteBounceList")
		if left := allBounces(t, mg, 100); len(left) != 0 {
			t.Fatalf("after DeleteBounceList: %+v", left)
		}
	})
}

// TestBouncesWire checks texts and shapes mailgun-go does not show:
// exact messages, the string code, paging links, bad input.
func TestBouncesWire(t *testing.T) {
	t.Parallel()
	e := startSuppressEnv(t, false)
	ta, base := e.App, "/v3/"+suppressDomain+"/bounces"
	r := ta.Call(t, http.MethodPost, base, ta.Key, testutil.Form(url.Values{"address": {"bob@example.com"}, "code": {"551"}}))
	r.Want(t, http.StatusOK)
	if r.Body != `{"message":"Address has been added to the bounces table","address":"bob@example.com"}`+"\n" {
		t.Fatalf("add reply %s", r)
	}
	var b map[string]any
	ta.Call(t, http.MethodGet, base+"/bob@example.com", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &b)
	if b["code"] != "551" || b["created_at"] != "Wed, 04 Mar 2026 05:06:07 +0000" {
		t.Fatalf("bounce JSON = %v; want the code as a string and an RFC 2822 date", b)
	}
	for _, bad := range []url.Values{{}, {"address": {"not-an-address"}}, {"address": {"a@b.c"}, "code": {"abc"}},
		{"address": {"a@b.c"}, "created_at": {"yesterday"}}} {
		ta.Call(t, http.MethodPost, base, ta.Key, testutil.Form(bad)).Want(t, http.StatusBadRequest)
	}
	var many []string
	for i := range 1001 {
		many = append(many, fmt.Sprintf(`{"address":"u%d@example.com"}`, i))
	}
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.JSON("["+strings.Join(many, ",")+"]")).
		WantMessage(t, http.StatusBadRequest, "Batch size should be less than 1000")
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.JSON(`[{"address":"a@example.com"},{"address":"bad"}]`)).
		Want(t, http.StatusBadRequest)
	ta.Call(t, http.MethodGet, base+"/a@example.com", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusNotFound, "Address not found in bounces table")
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.JSON(`[{"address":"a@example.com"},{"address":"c@example.com"}]`)).
		WantMessage(t, http.StatusOK, "2 addresses have been added to the bounces table")

	var page struct {
		Items  []map[string]any
		Paging map[string]string
	}
	ta.Call(t, http.MethodGet, base+"?limit=2&term=b", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0]["address"] != "bob@example.com" {
		t.Fatalf("term=b page = %+v", page.Items)
	}
	for _, k := range []string{"first", "next", "previous", "last"} {
		if !strings.HasPrefix(page.Paging[k], ta.URL+base+"?") {
			t.Fatalf("paging %s = %q, want an absolute link to %s", k, page.Paging[k], base)
		}
	}
	next, _ := url.Parse(page.Paging["next"])
	if next.Query().Get("address") != "bob@example.com" || next.Query().Get("term") != "b" || next.Query().Get("page") != "next" {
		t.Fatalf("next link %s lacks the pivot or the term", page.Paging["next"])
	}
	// mailgun-go's mock pivot name p is accepted too.
	ta.Call(t, http.MethodGet, base+"?page=next&p=a@example.com&limit=1", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0]["address"] != "bob@example.com" {
		t.Fatalf("page after a@example.com = %+v", page.Items)
	}
	ta.Call(t, http.MethodGet, base+"?page=last&limit=1", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0]["address"] != "c@example.com" {
		t.Fatalf("last page = %+v", page.Items)
	}
	ta.Call(t, http.MethodGet, base+"?page=previous&address=c@example.com&limit=2", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 2 || page.Items[0]["address"] != "a@example.com" || page.Items[1]["address"] != "bob@example.com" {
		t.Fatalf("previous page = %+v", page.Items)
	}
	ta.Call(t, http.MethodGet, base+"?limit=1001", ta.Key, testutil.NoBody).Want(t, http.StatusBadRequest)
	ta.Call(t, http.MethodDelete, base, ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusOK, "Bounced addresses for this domain have been removed")
}

func TestUnsubscribesSDK(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, e *suppressEnv) {
		mg := e.MG
		// mailgun-go always sends tag, empty for "every message".
		must(t, mg.CreateUnsubscribe(ctxb, "bob@example.com", ""), "CreateUnsubscribe")
		must(t, mg.CreateUnsubscribe(ctxb, "bob@example.com", "news"), "CreateUnsubscribe with a tag")
		must(t, mg.CreateUnsubscribes(ctxb, []mailgun.Unsubscribe{{Address: "carol@example.com", Tags: []string{"promo", "news"}},
			{Address: "dave@example.com"}}), "CreateUnsubscribes")
		u, err := mg.GetUnsubscribe(ctxb, "bob@example.com")
		must(t, err, "GetUnsubscribe")
		if !slices.Equal(u.Tags, []string{"*", "news"}) || !time.Time(u.CreatedAt).Equal(e.Clock.Now()) {
			t.Fatalf("bob = %+v, want tags [* news] created now", u)
		}
		u, err = mg.GetUnsubscribe(ctxb, "dave@example.com")
		must(t, err, "GetUnsubscribe dave")
		if !slices.Equal(u.Tags, []string{"*"}) {
			t.Fatalf("dave = %+v, want tags [*]", u)
		}
		it := mg.ListUnsubscribes(&mailgun.ListOptions{Limit: 2})
		var all, page []mailgun.Unsubscribe
		for it.Next(ctxb, &page) {
			all = append(all, page...)
		}
		must(t, it.Err(), "ListUnsubscribes")
		if len(all) != 3 || all[1].Address != "carol@example.com" || !slices.Equal(all[1].Tags, []string{"promo", "news"}) {
			t.Fatalf("ListUnsubscribes = %+v", all)
		}

		must(t, mg.DeleteUnsubscribeWithTag(ctxb, "bob@example.com", "news"), "DeleteUnsubscribeWithTag")
		u, err = mg.GetUnsubscribe(ctxb, "bob@example.com")
		must(t, err, "GetUnsubscribe after removing a tag")
		if !slices.Equal(u.Tags, []string{"*"}) {
			t.Fatalf("bob after removing news = %+v, want [*]", u)
		}
		wantSDKError(t, mg.DeleteUnsubscribeWithTag(ctxb, "bob@example.com", "news"), http.StatusNotFound,
			"Unsubscribe event for this tag does not exist")
		wantSDKError(t, mg.DeleteUnsubscribeWithTag(ctxb, "nobody@example.com", "news"), http.StatusNotFound,
			"Address not found in unsubscribers table")
		must(t, mg.DeleteUnsubscribe(ctxb, "bob@example.com"), "DeleteUnsubscribe")
		_, err = mg.GetUnsubscribe(ctxb, "bob@example.com")
		wantSDKError(t, err, http.StatusNotFound, "Address not found in unsubscribers table")
		ta := e.App
		ta.Call(t, http.MethodDelete, "/v3/"+suppressDomain+"/unsubscribes", ta.Key, testutil.NoBody).
			WantMessage(t, http.StatusOK, "Unsubscribe addresses for this domain have been removed")
		_, err = mg.GetUnsubscribe(ctxb, "carol@example.com")
		wantSDKError(t, err, http.StatusNotFound, "Address not found in unsubscribers table")
	})
}

func TestComplaintsSDK(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, e *suppressEnv) {
		mg := e.MG
		must(t, mg.CreateComplaint(ctxb, "bob@example.com"), "CreateComplaint")
		must(t, mg.CreateComplaints(ctxb, []string{"carol@example.com", "dave@example.com"}), "CreateComplaints")
		c, err := mg.GetComplaint(ctxb, "bob@example.com")
		must(t, err, "GetComplaint")
		if c.Address != "bob@example.com" || c.Count != 1 || !time.Time(c.CreatedAt).Equal(e.Clock.Now()) {
			t.Fatalf("GetComplaint = %+v", c)
		}
		it := mg.ListComplaints(&mailgun.ListOptions{Limit: 2})
		var all, page []mailgun.Complaint
		for it.Next(ctxb, &page) {
			all = append(all, page...)
		}
		must(t, it.Err(), "ListComplaints")
		if len(all) != 3 || all[2].Address != "dave@example.com" {
			t.Fatalf("ListComplaints = %+v", all)
		}
		must(t, mg.DeleteComplaint(ctxb, "bob@example.com"), "DeleteComplaint")
		_, err = mg.GetComplaint(ctxb, "bob@example.com")
		wantSDKError(t, err, http.StatusNotFound, "No spam complaints found for this address")
		ta := e.App
		ta.Call(t, http.MethodPost, "/v3/"+suppressDomain+"/complaints", ta.Key,
			testutil.JSON(`[{"address":"erin@example.com"},{"address":"frank@example.com"}]`)).
			WantMessage(t, http.StatusOK, "2 complaint addresses have been added to the complaints table")
		ta.Call(t, http.MethodDelete, "/v3/"+suppressDomain+"/complaints", ta.Key, testutil.NoBody).
			WantMessage(t, http.StatusOK, "Complaint addresses for this domain have been removed")
	})
}

// TestAllowlist covers /whitelists, which mailgun-go does not call.
func TestAllowlist(t *testing.T) {
	t.Parallel()
	e := startSuppressEnv(t, false)
	ta, base := e.App, "/v3/"+suppressDomain+"/whitelists"
	r := ta.Call(t, http.MethodPost, base, ta.Key, testutil.Form(url.Values{"domain": {"Trusted.org"}, "reason": {"partner"}}))
	r.Want(t, http.StatusOK)
	if r.Body != `{"message":"Address/Domain has been added to the allowlists table","type":"domain","value":"trusted.org"}`+"\n" {
		t.Fatalf("add reply %s", r)
	}
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.Multipart(url.Values{"address": {"bob@example.com"}})).Want(t, http.StatusOK)
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.Form(url.Values{"reason": {"x"}})).
		WantMessage(t, http.StatusBadRequest, "Missing mandatory parameter: address/domain")
	ta.Call(t, http.MethodPost, base, ta.Key, testutil.JSON(`[{"address":"a@b.c"}]`)).Want(t, http.StatusBadRequest)
	var item map[string]any
	ta.Call(t, http.MethodGet, base+"/trusted.org", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &item)
	want := map[string]any{"value": "trusted.org", "reason": "partner", "type": "domain", "createdAt": "Wed, 04 Mar 2026 05:06:07 +0000"}
	if fmt.Sprint(item) != fmt.Sprint(want) {
		t.Fatalf("allowlist item = %v, want %v", item, want)
	}
	var page struct{ Items []map[string]any }
	ta.Call(t, http.MethodGet, base, ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 2 || page.Items[0]["value"] != "bob@example.com" {
		t.Fatalf("allowlist = %+v", page.Items)
	}
	ta.Call(t, http.MethodDelete, base+"/trusted.org", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodGet, base+"/trusted.org", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusNotFound, "Address/Domain not found in allowlist table")
	ta.Call(t, http.MethodDelete, base, ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusOK, "Allowlist addresses/domains for this domain have been removed")
	ta.Call(t, http.MethodGet, base+"/bob@example.com", ta.Key, testutil.NoBody).Want(t, http.StatusNotFound)
}
