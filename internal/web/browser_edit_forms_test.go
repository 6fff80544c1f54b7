package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
)

// TestBrowserEditFormsKeepTyped: in Chromium, a route edit with a bad
// expression and a member edit with bad vars are refused, and each page
// comes back with the error and what was typed (the unticked Subscribed
// too), not the stored values; nothing stored changes.
func TestBrowserEditFormsKeepTyped(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	id := "5f2b7c1e00000000000000bb"
	if err := d.Regional.CreateRoute(ctx, store.Route{ID: id, Priority: 2, Expression: `match_recipient("a@.*")`,
		Actions: []string{"stop()"}, Description: "stored", CreatedAt: time.Now().UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	addr, member := "team@"+testDomain, "bob@example.org"
	if _, err := d.Lists.Create(ctx, lists.ListInput{Address: &addr}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lists.AddMembers(ctx, addr, []store.Member{{Address: member, Name: "Bob", Subscribed: true, Vars: map[string]any{}}}, false); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	value := func(id string) string { return eval[string](b, `document.getElementById("`+id+`").value`) }

	b.do("open the route", chromedp.Navigate(d.Base+"/dashboard/routes/"+id), chromedp.WaitVisible(chromedp.ID("route-save")))
	b.fill(map[string]string{"route-priority": "9", "route-expression": `match_recipient("typed@.*"`,
		"route-actions": "store()\nstop()", "route-description": "typed description"})
	b.do("save a bad expression", loads(chromedp.Click(chromedp.ID("route-save"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.Contains(got, "Invalid expression") {
		t.Errorf("route error = %q", got)
	}
	for id, want := range map[string]string{"route-priority": "9", "route-expression": `match_recipient("typed@.*"`,
		"route-actions": "store()\nstop()\n", "route-description": "typed description"} {
		if got := value(id); got != want {
			t.Errorf("after the refused route edit %s = %q, want the typed %q", id, got, want)
		}
	}
	b.snap("edit-route-refused")
	if r, err := d.Regional.Route(ctx, id); err != nil || r.Priority != 2 || r.Expression != `match_recipient("a@.*")` {
		t.Fatalf("the refused edit changed the route: %+v, %v", r, err)
	}

	b.do("open the member", chromedp.Navigate(d.Base+"/dashboard/lists/"+addr+"/members/"+member), chromedp.WaitVisible(chromedp.ID("member-save")))
	b.fill(map[string]string{"member-name": "Robert", "member-vars": `{"city": `})
	b.do("untick Subscribed", chromedp.Click(chromedp.ID("member-subscribed")))
	b.do("save bad vars", loads(chromedp.Click(chromedp.ID("member-save"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := value("member-name"); got != "Robert" {
		t.Errorf("member name = %q, want the typed Robert", got)
	}
	if got := value("member-vars"); got != `{"city": ` {
		t.Errorf("member vars = %q, want the typed ones", got)
	}
	if eval[bool](b, `document.getElementById("member-subscribed").checked`) {
		t.Error("Subscribed shows ticked, but it was unticked when refused")
	}
	b.snap("edit-member-refused")
	if m, err := d.Lists.Member(ctx, addr, member); err != nil || m.Name != "Bob" || !m.Subscribed {
		t.Fatalf("the refused edit changed the member: %+v, %v", m, err)
	}
	b.do("open the member again", chromedp.Navigate(d.Base+"/dashboard/lists/"+addr+"/members/"+member), chromedp.WaitVisible(chromedp.ID("member-save")))
	if got := value("member-name"); got != "Bob" || !eval[bool](b, `document.getElementById("member-subscribed").checked`) {
		t.Errorf("the next visit shows %q, not the stored member", got)
	}
	b.noConsoleErrors()
}
