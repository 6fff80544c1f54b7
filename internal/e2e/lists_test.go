package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestListsSDK drives mailing lists and members with mailgun-go v4.23.0.
func TestListsSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		ctx := context.Background()
		mg := e.mg
		if _, err := mg.CreateMailingList(ctx, mailgun.MailingList{Address: "Devs@Lists.Example.com", Name: "Devs",
			Description: "developers", AccessLevel: mailgun.AccessLevelMembers}); err != nil {
			t.Fatalf("CreateMailingList: %v", err)
		}
		l, err := mg.GetMailingList(ctx, "devs@lists.example.com")
		if err != nil || l.Address != "devs@lists.example.com" || l.AccessLevel != "members" || l.ReplyPreference != "list" ||
			l.Description != "developers" || l.CreatedAt.IsZero() {
			t.Fatalf("GetMailingList = %+v, %v", l, err)
		}
		for i := range 3 {
			if _, err := mg.CreateMailingList(ctx, mailgun.MailingList{Address: fmt.Sprintf("l%d@lists.example.com", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := mg.UpdateMailingList(ctx, "l0@lists.example.com", mailgun.MailingList{Description: "zero",
			ReplyPreference: mailgun.ReplyPreferenceSender}); err != nil {
			t.Fatalf("UpdateMailingList: %v", err)
		}
		if l, _ := mg.GetMailingList(ctx, "l0@lists.example.com"); l.Description != "zero" || l.ReplyPreference != "sender" || l.AccessLevel != "readonly" {
			t.Fatalf("after UpdateMailingList: %+v", l)
		}
		var addrs []string
		it := mg.ListMailingLists(&mailgun.ListOptions{Limit: 3})
		var page []mailgun.MailingList
		for it.Next(ctx, &page) {
			for _, x := range page {
				addrs = append(addrs, x.Address)
			}
		}
		if it.Err() != nil || strings.Join(addrs, ",") != "devs@lists.example.com,l0@lists.example.com,l1@lists.example.com,l2@lists.example.com" {
			t.Fatalf("ListMailingLists = %v, %v", addrs, it.Err())
		}
		if err := mg.DeleteMailingList(ctx, "l2@lists.example.com"); err != nil {
			t.Fatalf("DeleteMailingList: %v", err)
		}
		if _, err := mg.GetMailingList(ctx, "l2@lists.example.com"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("GetMailingList after delete: %v", err)
		}

		const list = "devs@lists.example.com"
		yes, no := true, false
		if err := mg.CreateMember(ctx, false, list, mailgun.Member{Address: "Ann@Example.net", Name: "Ann Lee"}); err != nil {
			t.Fatalf("CreateMember without vars (sends vars=null): %v", err)
		}
		if err := mg.CreateMember(ctx, false, list, mailgun.Member{Address: "ann@example.net"}); mailgun.GetStatusFromErr(err) != http.StatusBadRequest {
			t.Fatalf("duplicate CreateMember: %v", err)
		}
		if err := mg.CreateMember(ctx, true, list, mailgun.Member{Address: "ann@example.net", Name: "Ann Lee",
			Vars: map[string]any{"team": "core", "n": 3}, Subscribed: &no}); err != nil {
			t.Fatalf("upsert CreateMember: %v", err)
		}
		m, err := mg.GetMember(ctx, "ann@example.net", list)
		if err != nil || m.Name != "Ann Lee" || m.Subscribed == nil || *m.Subscribed || m.Vars["team"] != "core" || m.Vars["n"] != float64(3) {
			t.Fatalf("GetMember = %+v, %v", m, err)
		}
		m, err = mg.UpdateMember(ctx, "ann@example.net", list, mailgun.Member{Subscribed: &yes, Name: "Ann B. Lee"})
		if err != nil || !*m.Subscribed || m.Name != "Ann B. Lee" || m.Vars["team"] != "core" {
			t.Fatalf("UpdateMember = %+v, %v", m, err)
		}
		bulk := []any{"bob@example.net", "Cy <cy@example.net>",
			mailgun.Member{Address: "dee@example.net", Name: "Dee", Vars: map[string]any{"x": 1}, Subscribed: &no}}
		if err := mg.CreateMemberList(ctx, &yes, list, bulk); err != nil {
			t.Fatalf("CreateMemberList: %v", err)
		}
		var members []string
		mi := mg.ListMembers(list, &mailgun.ListOptions{Limit: 2})
		var mp []mailgun.Member
		for mi.Next(ctx, &mp) {
			for _, x := range mp {
				members = append(members, fmt.Sprintf("%s/%s/%v", x.Address, x.Name, *x.Subscribed))
			}
		}
		want := "ann@example.net/Ann B. Lee/true,bob@example.net//true,cy@example.net/Cy/true,dee@example.net/Dee/false"
		if mi.Err() != nil || strings.Join(members, ",") != want {
			t.Fatalf("ListMembers = %v, %v", members, mi.Err())
		}
		if l, _ := mg.GetMailingList(ctx, list); l.MembersCount != 4 {
			t.Fatalf("members_count = %d", l.MembersCount)
		}
		if err := mg.DeleteMember(ctx, "bob@example.net", list); err != nil {
			t.Fatalf("DeleteMember: %v", err)
		}
		if _, err := mg.GetMember(ctx, "bob@example.net", list); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("GetMember after delete: %v", err)
		}
	})
}

// TestListsAPIShapes: envelopes, offset paging, filters and the error
// texts of docs/mailgun-contract.md §5.
func TestListsAPIShapes(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	call := func(method, path string, v url.Values) testutil.Response {
		return ta.Call(t, method, path, ta.Key, testutil.Form(v))
	}
	call("POST", "/v3/lists", url.Values{"address": {"a@l.test"}, "access_level": {"x"}}).
		WantMessage(t, 400, "Invalid access level 'x'. It can be any of: 'readonly', 'members', 'everyone'.")
	call("POST", "/v3/lists", url.Values{"address": {"a@l.test"}, "reply_preference": {"y"}}).
		WantMessage(t, 400, "Invalid reply preference 'y'. It can be any of: 'sender', 'list'")
	call("GET", "/v3/lists/nope@l.test", nil).WantMessage(t, 404, "Mailing list nope@l.test not found")
	var created struct {
		Message string
		List    struct {
			Address     string
			AccessLevel string `json:"access_level"`
		}
	}
	call("POST", "/v3/lists", url.Values{"address": {"Team <team@l.test>"}}).Want(t, 200).Decode(t, &created)
	if created.Message != "Mailing list has been created" || created.List.Address != "team@l.test" || created.List.AccessLevel != "readonly" {
		t.Fatalf("create = %+v", created)
	}
	call("POST", "/v3/lists/team@l.test/members", url.Values{"address": {"x@y.test"}, "vars": {"[1]"}}).
		WantMessage(t, 400, "'vars' parameter must be a valid JSON object")
	call("POST", "/v3/lists/team@l.test/members", url.Values{"address": {"x@y.test"}, "subscribed": {"no"}}).Want(t, 200)
	call("POST", "/v3/lists/team@l.test/members", url.Values{"address": {"x@y.test"}}).
		WantMessage(t, 400, "Address already exists 'x@y.test'")
	call("GET", "/v3/lists/team@l.test/members/z@y.test", nil).
		WantMessage(t, 404, "Member z@y.test of mailing list team@l.test not found")
	var mem struct {
		Member map[string]any
	}
	call("GET", "/v3/lists/team@l.test/members/x@y.test", nil).Want(t, 200).Decode(t, &mem)
	if mem.Member["subscribed"] != false || fmt.Sprint(mem.Member["vars"]) != "map[]" {
		t.Fatalf("member JSON = %v", mem.Member)
	}
	call("POST", "/v3/lists/team@l.test/members.json", url.Values{"members": {`["a@y.test", {"address": "b@y.test", "subscribed": "no"}]`}}).Want(t, 200)
	var page struct {
		TotalCount int `json:"total_count"`
		Items      []struct{ Address string }
	}
	call("GET", "/v3/lists/team@l.test/members?subscribed=yes&limit=10", nil).Want(t, 200).Decode(t, &page)
	if page.TotalCount != 1 || len(page.Items) != 1 || page.Items[0].Address != "a@y.test" {
		t.Fatalf("subscribed members = %+v", page)
	}
	call("GET", "/v3/lists?limit=10", nil).Want(t, 200).Decode(t, &page)
	if page.TotalCount != 1 || page.Items[0].Address != "team@l.test" {
		t.Fatalf("lists = %+v", page)
	}
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf(`"m%d@y.test"`, i)
	}
	call("POST", "/v3/lists/team@l.test/members.json", url.Values{"members": {"[" + strings.Join(tooMany, ",") + "]"}}).Want(t, 400)
	call("POST", "/v3/lists/team@l.test/members.json", url.Values{"members": {`["ok@y.test", "not an address"]`}}).Want(t, 400)
	if r := call("GET", "/v3/lists/team@l.test", nil); !strings.Contains(r.String(), `"members_count":3`) {
		t.Fatalf("a refused bulk upload changed the list: %s", r)
	}
	if r := call("DELETE", "/v3/lists/team@l.test", nil).Want(t, 200); !strings.Contains(r.String(), "Mailing list has been removed") {
		t.Fatalf("delete = %s", r)
	}
}

// uploadCSV posts members.csv and returns the response.
func uploadCSV(t *testing.T, e *sendEnv, list, csv string, fields url.Values) map[string]any {
	t.Helper()
	status, body := e.call(http.MethodPost, "/v3/lists/"+list+"/members.csv",
		multipartBody(fields, upload{field: "members", name: "members.csv", data: []byte(csv)}))
	if status != http.StatusOK {
		t.Fatalf("members.csv = %d %s", status, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
