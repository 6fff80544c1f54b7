package web_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/store"
)

// acceptDialogs accepts every confirm() of the tab from now on; the
// function it returns lists the messages accepted so far.
func (b *tab) acceptDialogs() func() []string {
	var mu sync.Mutex
	var msgs []string
	opening := chromedp.Events(b.ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for e, err := range opening {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, e.Message)
			mu.Unlock()
			// Answered from another goroutine than the one reading events.
			go func() {
				_, _ = chromedp.Call(b.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(msgs)
	}
}

// rows returns the addresses the list page shows.
func (b *tab) rows() []string {
	return eval[[]string](b, `[...document.querySelectorAll("#suppressions tr.supp")].map(tr => tr.dataset.address)`)
}

// TestBrowserSuppressions adds a bounce from the UI, sees it listed and
// found by search, sees a send to it through the API fail with
// suppress-bounce, and deletes it.
func TestBrowserSuppressions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	b := loggedIn(t, f.dash, desktopW, desktopH)
	confirms := b.acceptDialogs()
	const addr = "bounced@dest.example"
	list := "/dashboard/suppressions/" + testDomain + "/bounces"

	b.do("open Suppressions", chromedp.WaitVisible(chromedp.ID("who")),
		loads(chromedp.Click(chromedp.CSS(`a[href="/dashboard/suppressions"]`))), chromedp.WaitVisible(chromedp.ID("supp-address")))
	if loc := b.location(); loc != f.Base+list {
		t.Fatalf("Suppressions opened %s, want the first domain's bounces", loc)
	}
	b.do("add a bounce", chromedp.SendKeys(chromedp.ID("supp-address"), "Bounced@Dest.Example"),
		chromedp.SendKeys(chromedp.ID("supp-code"), "554"), chromedp.SendKeys(chromedp.ID("supp-error"), "mailbox disabled"),
		loads(chromedp.Click(chromedp.ID("supp-add-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	row := b.text(`#suppressions tr[data-address="` + addr + `"]`)
	if !strings.Contains(row, "554") || !strings.Contains(row, "mailbox disabled") {
		t.Fatalf("bounce row = %q", row)
	}
	if rec, err := f.Regional.Suppression(context.Background(), testDomain, store.Bounces, addr); err != nil || rec.Code != "554" {
		t.Fatalf("stored bounce = %+v, %v", rec, err)
	}

	id := f.send(t, f.sendingKey, mailgun.NewMessage("App <app@"+testDomain+">", "To a bounced address", "hi", addr))
	ev := f.waitEvent(t, id, "failed", "permanent", addr)
	if ev.Reason != "suppress-bounce" {
		t.Fatalf("send to the bounced address: failed event with reason %q, want suppress-bounce", ev.Reason)
	}

	b.do("search by prefix", chromedp.SendKeys(chromedp.ID("supp-term"), "BOUN"), loads(chromedp.Click(chromedp.ID("supp-search"))),
		chromedp.WaitVisible(chromedp.ID("suppressions")))
	if got := b.rows(); !slices.Equal(got, []string{addr}) {
		t.Errorf("search for boun: %v", got)
	}
	b.do("search for nothing", chromedp.SetValue(chromedp.ID("supp-term"), "zz"), loads(chromedp.Click(chromedp.ID("supp-search"))),
		chromedp.WaitVisible(chromedp.ID("supp-empty")))

	b.do("back to the list", chromedp.Navigate(f.Base+list), chromedp.WaitVisible(chromedp.ID("suppressions")))
	b.do("delete the bounce", loads(chromedp.Click(chromedp.CSS(`tr[data-address="`+addr+`"] button.danger`))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || got[0] != "Remove "+addr+" from Bounces?" {
		t.Errorf("confirmations = %q", got)
	}
	if got := b.text(".notice"); got != addr+" was removed from Bounces." {
		t.Errorf("notice = %q", got)
	}
	if b.exists(`tr[data-address="` + addr + `"]`) {
		t.Error("the deleted bounce is still listed")
	}
	if _, err := f.Regional.Suppression(context.Background(), testDomain, store.Bounces, addr); err != store.ErrNotFound {
		t.Errorf("after delete the store has it: %v", err)
	}
	if html := b.html(); strings.Contains(html, f.Key) || strings.Contains(html, f.sendingKey) {
		t.Error("the page shows an API key")
	}
	b.noConsoleErrors()
}

// TestBrowserSuppressionImport imports a CSV of unsubscribes on a
// phone-sized screen: the import page follows its progress and names the
// bad row; the list shows the tags; one tag is removed; then the whole
// list is deleted after its confirmation step.
func TestBrowserSuppressionImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	b := loggedIn(t, f.dash, phoneW, phoneH)
	csv := filepath.Join(t.TempDir(), "unsubscribes.csv")
	data := "address,tags\nann@dest.example,\"news,promo\"\nnot an address,\nbob@dest.example,\n"
	if err := os.WriteFile(csv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	list := "/dashboard/suppressions/" + testDomain + "/unsubscribes"
	b.do("open the unsubscribes", chromedp.Navigate(f.Base+"/dashboard/suppressions/"+testDomain+"/bounces"),
		loads(chromedp.Click(chromedp.ID("tab-unsubscribes"))), chromedp.WaitVisible(chromedp.ID("supp-file")))
	b.do("upload the file", chromedp.SetUploadFiles(chromedp.ID("supp-file"), []string{csv}),
		loads(chromedp.Click(chromedp.ID("supp-import-button"))),
		chromedp.WaitVisible(chromedp.CSS(`#import-status[data-state="done"]`)))
	if !strings.HasPrefix(b.location(), f.Base+list+"/imports/") {
		t.Errorf("after the upload at %s", b.location())
	}
	for sel, want := range map[string]string{"#import-added": "2", "#import-failed": "1", "#import-rows": "3"} {
		if got := b.text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if got := b.text(`#import-errors tr[data-row="2"]`); !strings.Contains(got, `"not an address" is not a valid address`) {
		t.Errorf("bad row shown as %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#import-errors tr.import-error").length`); n != 1 {
		t.Errorf("%d error rows, want 1", n)
	}
	phoneFits(b, "the import page")

	b.do("back to the list", loads(chromedp.Click(chromedp.CSS(`a[href="`+list+`"]`))), chromedp.WaitVisible(chromedp.ID("suppressions")))
	if got := b.rows(); !slices.Equal(got, []string{"ann@dest.example", "bob@dest.example"}) {
		t.Fatalf("listed %v", got)
	}
	tags := func(addr string) []string {
		return eval[[]string](b, `[...document.querySelectorAll('tr[data-address="`+addr+`"] input[name=tag]')].map(i => i.value)`)
	}
	if got := tags("ann@dest.example"); !slices.Equal(got, []string{"news", "promo"}) {
		t.Errorf("tags of ann = %v", got)
	}
	if got := tags("bob@dest.example"); !slices.Equal(got, []string{"*"}) {
		t.Errorf("tags of bob = %v", got)
	}
	if got := b.text(`#imports tbody tr`); !strings.Contains(got, "done") {
		t.Errorf("recent import row = %q", got)
	}
	phoneFits(b, "the unsubscribes page")
	b.do("remove the tag news", loads(chromedp.Click(chromedp.CSS(`tr[data-address="ann@dest.example"] button[aria-label^="Remove tag news"]`))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := tags("ann@dest.example"); !slices.Equal(got, []string{"promo"}) {
		t.Errorf("tags of ann after removing news = %v", got)
	}

	b.do("ask to delete all", loads(chromedp.Click(chromedp.ID("supp-clear"))), chromedp.WaitVisible(chromedp.ID("clear-confirm")))
	b.do("confirm with a wrong name", chromedp.SendKeys(chromedp.ID("clear-confirm"), "other.example.com"),
		loads(chromedp.Click(chromedp.ID("clear-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if len(f.unsubscribes(t)) != 2 {
		t.Fatal("a wrong confirmation deleted records")
	}
	b.do("confirm with the domain's name", chromedp.SendKeys(chromedp.ID("clear-confirm"), testDomain),
		loads(chromedp.Click(chromedp.ID("clear-button"))), chromedp.WaitVisible(chromedp.ID("supp-empty")))
	if got := f.unsubscribes(t); len(got) != 0 {
		t.Errorf("after delete all the store has %v", got)
	}
	b.noConsoleErrors()
}

func (f *fixture) unsubscribes(t *testing.T) []store.Suppression {
	t.Helper()
	recs, err := f.Regional.Suppressions(context.Background(), store.SuppressionQuery{Domain: testDomain, List: store.Unsubscribes, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestBrowserImportProgress: the import page follows an import that
// another node runs, in place (no reload), until it is done.
func TestBrowserImportProgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	ctx := context.Background()
	now := time.Now().UTC()
	// Another node holds the import: this node's importer leaves it alone.
	im := store.Import{ID: "import-by-another-node", Domain: testDomain, List: store.Complaints, State: store.ImportRunning,
		Data: []byte("address\n"), Owner: "other-node", LeaseUntil: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := f.Regional.CreateImport(ctx, im); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, f.dash, desktopW, desktopH)
	b.do("open the import", chromedp.Navigate(f.Base+"/dashboard/suppressions/"+testDomain+"/complaints/imports/"+im.ID),
		chromedp.WaitVisible(chromedp.CSS(`#import-status[data-state="running"][data-poll]`)))
	eval[bool](b, "window.stillHere = true")
	step := store.ImportStep{ID: im.ID, Owner: im.Owner, Rows: 2, Failed: 1, Lease: now.Add(time.Hour), Now: now,
		Records: []store.Suppression{{Domain: testDomain, List: store.Complaints, Address: "c1@dest.example", Count: 1, CreatedAt: now}},
		Errors:  []store.ImportError{{Row: 2, Message: "bad row two"}}}
	if err := f.Regional.StepImport(ctx, step); err != nil {
		t.Fatal(err)
	}
	b.do("see the progress", chromedp.WaitVisible(chromedp.CSS(`#import-errors tr[data-row="2"]`)))
	if got := b.text("#import-rows"); got != "2" {
		t.Errorf("rows after the first batch = %q", got)
	}
	step.Rows, step.Failed, step.Errors, step.Finish = 3, 0, nil, store.ImportDone
	step.Records[0].Address = "c3@dest.example"
	if err := f.Regional.StepImport(ctx, step); err != nil {
		t.Fatal(err)
	}
	b.do("see it done", chromedp.WaitVisible(chromedp.CSS(`#import-status[data-state="done"]`)))
	for sel, want := range map[string]string{"#import-rows": "3", "#import-added": "2", "#import-failed": "1", "#import-state": "done"} {
		if got := b.text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if !eval[bool](b, "window.stillHere === true") || b.exists("#import-status[data-poll]") {
		t.Error("the page reloaded, or still polls after the import is done")
	}
	b.noConsoleErrors()
}
