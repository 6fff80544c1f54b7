package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
)

// TestBrowserMailingLists follows Sending → Mailing lists: create a
// list, add members (one with vars), find one, edit it (unsubscribe,
// new vars), remove one, upload 2,500 members from a CSV file and follow
// the upload to its end, page through them, and delete the list by
// typing its address; on a phone.
func TestBrowserMailingLists(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, phoneW, phoneH)
	confirms := b.acceptDialogs()
	list := "news@" + testDomain
	b.do("open Mailing lists", chromedp.Navigate(d.Base+"/dashboard/lists"), chromedp.WaitVisible(chromedp.ID("no-lists")))
	b.fill(map[string]string{"list-address": "News <" + list + ">", "list-description": "the weekly news"})
	b.do("create the list", loads(chromedp.Click(chromedp.ID("list-save"))), chromedp.WaitVisible(chromedp.ID("members-find")))
	if got := b.text("h1"); got != list {
		t.Fatalf("list page heading = %q", got)
	}
	add := func(addr, vars string) {
		b.t.Helper()
		b.fill(map[string]string{"member-address": addr, "member-vars": vars})
		b.do("add "+addr, loads(chromedp.Click(chromedp.ID("member-add-button"))), chromedp.WaitVisible(chromedp.ID("main")))
	}
	add("Alice <alice@example.org>", `{"first": "Alice"}`)
	add("bob@example.org", "")
	add("carol@example.org", "[1, 2]")
	if got := b.text("#form-error"); !strings.Contains(got, "vars") {
		t.Errorf("error for vars that are no object = %q", got)
	}
	members := func() []string {
		return eval[[]string](b, `[...document.querySelectorAll("#members tr.member")].map(tr => tr.dataset.address + " " + tr.querySelector(".subscribed").textContent)`)
	}
	if got := strings.Join(members(), ","); got != "alice@example.org yes,bob@example.org yes" {
		t.Fatalf("members = %q", got)
	}
	if got := b.text(`tr[data-address="alice@example.org"] .vars`); got != "first: Alice" {
		t.Errorf("alice's vars = %q", got)
	}
	b.fill(map[string]string{"find": "BOB@example.org"})
	b.do("find bob", loads(chromedp.Click(chromedp.ID("members-show"))), chromedp.WaitVisible(chromedp.ID("members")))
	if got := strings.Join(members(), ","); got != "bob@example.org yes" {
		t.Errorf("found = %q", got)
	}
	b.do("edit bob", loads(chromedp.Click(chromedp.CSS(`tr[data-address="bob@example.org"] a.edit-member`))), chromedp.WaitVisible(chromedp.ID("member-save")))
	b.fill(map[string]string{"member-name": "Bob B", "member-vars": `{"plan": "pro"}`})
	b.do("unsubscribe bob and save", chromedp.Click(chromedp.ID("member-subscribed")), loads(chromedp.Click(chromedp.ID("member-save"))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	m, err := d.Lists.Member(context.Background(), list, "bob@example.org")
	if err != nil || m.Subscribed || m.Name != "Bob B" || m.Vars["plan"] != "pro" {
		t.Errorf("bob after edit: %+v, %v", m, err)
	}
	b.do("remove alice", loads(chromedp.Click(chromedp.CSS(`tr[data-address="alice@example.org"] button.danger`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || got[0] != "Remove alice@example.org from "+list+"?" {
		t.Errorf("confirmations = %q", got)
	}
	if got := strings.Join(members(), ","); got != "bob@example.org no" {
		t.Errorf("members after remove = %q", got)
	}
	phoneFits(b, "a mailing list's page")
	b.snap("list-phone")

	var csv strings.Builder
	csv.WriteString("address,name,subscribed\n")
	for i := range 2500 {
		fmt.Fprintf(&csv, "user%04d@example.org,User %d,%v\n", i, i, i%10 != 0)
	}
	file := filepath.Join(t.TempDir(), "members.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("upload 2,500 members", chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{file}),
		loads(chromedp.Click(chromedp.ID("upload-button"))), chromedp.WaitVisible(chromedp.ID("upload-status")))
	b.do("wait for the upload to end", chromedp.WaitVisible(chromedp.CSS(`#upload-status[data-state="done"]`)))
	if got := b.text("#upload-processed"); got != "2500" {
		t.Errorf("written = %q", got)
	}
	b.snap("list-upload-phone")
	b.do("back to the list", loads(chromedp.Click(chromedp.ID("back-to-list"))), chromedp.WaitVisible(chromedp.ID("members")))
	if got := b.text("#list-count"); got != "2501" {
		t.Errorf("member count = %q, want 2501", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#members tr.member").length`); n != 50 {
		t.Errorf("%d members on the first page, want 50", n)
	}
	b.do("next page", loads(chromedp.Click(chromedp.ID("page-next"))), chromedp.WaitVisible(chromedp.ID("page-prev")))
	b.do("only the unsubscribed", chromedp.SetValue(chromedp.ID("members-subscribed"), "no"), loads(chromedp.Click(chromedp.ID("members-show"))),
		chromedp.WaitVisible(chromedp.ID("members")))
	if got := eval[[]string](b, `[...new Set([...document.querySelectorAll("#members .subscribed")].map(td => td.textContent))]`); len(got) != 1 || got[0] != "no" {
		t.Errorf("the unsubscribed filter shows %q", got)
	}

	b.fill(map[string]string{"list-delete-confirm": "wrong@" + testDomain})
	b.do("delete with a wrong address", loads(chromedp.Click(chromedp.ID("list-delete-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	b.fill(map[string]string{"list-delete-confirm": list})
	b.do("delete the list", loads(chromedp.Click(chromedp.ID("list-delete-button"))), chromedp.WaitVisible(chromedp.ID("no-lists")))
	if _, err := d.Lists.Get(context.Background(), list); err == nil {
		t.Error("the list is still stored")
	}
	b.do("desktop", chromedp.EmulateViewport(desktopW, desktopH))
	b.fill(map[string]string{"list-address": "team@" + testDomain, "list-name": "Team"})
	b.do("create another", loads(chromedp.Click(chromedp.ID("list-save"))), chromedp.WaitVisible(chromedp.ID("members-find")))
	b.do("the lists", chromedp.Navigate(d.Base+"/dashboard/lists"), chromedp.WaitVisible(chromedp.ID("lists")))
	b.snap("lists-desktop")
	b.noConsoleErrors()
}

// fixtureList creates the mailing list addr with the member member and
// more, written in the background: it returns that upload's task id.
func fixtureList(t *testing.T, d *dash, addr, member string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Lists.Create(ctx, lists.ListInput{Address: &addr}); err != nil {
		t.Fatal(err)
	}
	ms := []store.Member{{Address: member, Subscribed: true, Vars: map[string]any{}}}
	for i := range 1000 { // more than one chunk: a background upload
		ms = append(ms, store.Member{Address: fmt.Sprintf("bulk%d@example.org", i), Subscribed: true, Vars: map[string]any{}})
	}
	up, err := d.Lists.AddMembers(ctx, addr, ms, false)
	if err != nil || up.TaskID == "" {
		t.Fatalf("upload: %+v, %v", up, err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		if tv, _ := d.Lists.Task(up.TaskID); tv.Status == "done" {
			return up.TaskID
		} else if time.Now().After(deadline) {
			t.Fatalf("the fixture's upload is %+v", tv)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
