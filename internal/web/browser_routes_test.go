package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRoutes follows Receiving → Routes: create two routes, see
// them in evaluation order, test a recipient and a subject against them,
// edit one, see a bad expression refused, and delete one; on a phone.
func TestBrowserRoutes(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, phoneW, phoneH)
	confirms := b.acceptDialogs()
	b.do("open Routes", chromedp.Navigate(d.Base+"/dashboard/routes"), chromedp.WaitVisible(chromedp.ID("no-routes")))

	create := func(step, prio, expr, actions, desc string) {
		b.t.Helper()
		b.fill(map[string]string{"route-priority": prio, "route-expression": expr, "route-actions": actions, "route-description": desc})
		b.do(step, loads(chromedp.Click(chromedp.ID("route-save"))), chromedp.WaitVisible(chromedp.ID("main")))
	}
	create("create the support route", "10", `match_recipient("support@.*")`, "forward(\"https://example.com/inbound\")\nstop()", "support desk")
	if !b.exists(".notice") {
		t.Fatalf("no notice after create: %q", b.text("main"))
	}
	create("create the invoice route", "1", `match_header("subject", "(?i).*invoice")`, `store()`, "invoices")
	create("try a bad expression", "0", `match_recipient(`, "stop()", "")
	if got := b.text("#form-error"); !strings.Contains(got, "Invalid expression") {
		t.Errorf("error for a bad expression = %q", got)
	}
	rows := eval[[]string](b, `[...document.querySelectorAll("#routes tr.route")].map(tr => tr.querySelector(".priority").textContent + " " + tr.querySelector(".expr").textContent)`)
	if len(rows) != 2 || rows[0] != `1 match_header("subject", "(?i).*invoice")` || rows[1] != `10 match_recipient("support@.*")` {
		t.Fatalf("routes listed = %q", rows)
	}
	stored, total, err := d.Regional.Routes(context.Background(), 0, 10)
	if err != nil || total != 2 || len(stored[1].Actions) != 2 || stored[1].Description != "support desk" {
		t.Fatalf("stored routes = %+v, %d, %v", stored, total, err)
	}

	b.fill(map[string]string{"test-recipient": "support@mg.example.com", "test-subject": "Your Invoice 42"})
	b.do("test an invoice to support", loads(chromedp.Click(chromedp.ID("route-test-button"))), chromedp.WaitVisible(chromedp.ID("route-test-result")))
	fired := eval[[]string](b, `[...document.querySelectorAll("#route-test-result li.fired-route")].map(li => li.textContent.replace(/\s+/g, " ").trim())`)
	if len(fired) != 2 || !strings.Contains(fired[0], "store()") || !strings.Contains(fired[1], `forward("https://example.com/inbound")`) {
		t.Errorf("fired routes = %q", fired)
	}
	if got := eval[string](b, `document.getElementById("test-subject").value`); got != "Your Invoice 42" {
		t.Errorf("the tester forgot the subject: %q", got)
	}
	b.fill(map[string]string{"test-recipient": "sales@mg.example.com", "test-subject": ""})
	b.do("test another address", loads(chromedp.Click(chromedp.ID("route-test-button"))), chromedp.WaitVisible(chromedp.ID("no-route-fires")))
	phoneFits(b, "the Routes page")
	b.snap("routes-phone")

	id := stored[1].ID
	b.do("edit the support route", loads(chromedp.Click(chromedp.CSS(`tr.route[data-id="`+id+`"] a.edit`))),
		chromedp.WaitVisible(chromedp.ID("delete-route")))
	if got := eval[string](b, `document.getElementById("route-actions").value`); got != "forward(\"https://example.com/inbound\")\nstop()\n" {
		t.Errorf("edit form actions = %q", got)
	}
	b.fill(map[string]string{"route-expression": `match_recipient("help@.*")`})
	b.do("save a new expression", loads(chromedp.Click(chromedp.ID("route-save"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if r, err := d.Regional.Route(context.Background(), id); err != nil || r.Expression != `match_recipient("help@.*")` || r.Priority != 10 {
		t.Errorf("after edit: %+v, %v", r, err)
	}
	b.do("open it again", chromedp.Navigate(d.Base+"/dashboard/routes/"+id), chromedp.WaitVisible(chromedp.ID("delete-route")))
	b.do("delete it", loads(chromedp.Click(chromedp.ID("delete-route"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || !strings.HasPrefix(got[0], "Delete route "+id) {
		t.Errorf("confirmations = %q", got)
	}
	if _, total, _ := d.Regional.Routes(context.Background(), 0, 10); total != 1 || b.exists(`tr.route[data-id="`+id+`"]`) {
		t.Errorf("after delete: %d routes stored", total)
	}
	b.do("desktop", chromedp.EmulateViewport(desktopW, desktopH))
	b.snap("routes-desktop")
	b.noConsoleErrors()
}

// fill sets form fields by id (any value, the empty one too).
func (b *tab) fill(values map[string]string) {
	b.t.Helper()
	js, err := json.Marshal(values)
	if err != nil {
		b.t.Fatal(err)
	}
	if n := eval[int](b, `(() => { const v = `+string(js)+`; let n = 0;
		for (const id in v) { const el = document.getElementById(id); if (el) { el.value = v[id]; n++; } } return n; })()`); n != len(values) {
		b.snap("fill")
		b.t.Fatalf("filled %d of the fields %v", n, values)
	}
}

// openNav opens the main navigation when it is folded behind the Menu
// button (on a phone).
func (b *tab) openNav() {
	b.t.Helper()
	if eval[bool](b, `getComputedStyle(document.getElementById("nav-toggle")).display !== "none" && document.getElementById("nav-toggle").getAttribute("aria-expanded") !== "true"`) {
		b.do("open the menu", chromedp.Click(chromedp.ID("nav-toggle")), chromedp.WaitVisible(chromedp.ID("main-nav")))
	}
}
