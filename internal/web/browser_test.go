package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// Window sizes: a laptop and a phone.
const (
	desktopW, desktopH = 1280, 900
	phoneW, phoneH     = 390, 844
)

// tab is one headless Chromium with a fresh profile, driven by one test.
// On failure it saves a screenshot and the HTML of the page to a temp
// folder and logs the path. Set SALVO_TEST_SCREENSHOTS=1 to keep the
// screenshots of every named step of passing tests too.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string

	mu      sync.Mutex
	console []string // errors the page logged (not network statuses)
}

func newTab(t *testing.T, base string, width, height int) *tab {
	t.Helper()
	ctx := testutil.Chromium(t, width, height)
	b := &tab{t: t, ctx: ctx, base: base}
	// The first run starts the browser: no timeout on it. The viewport is
	// emulated because a window cannot be as narrow as a phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				b.mu.Lock()
				b.console = append(b.console, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.snap("at-failure")
		}
	})
	return b
}

// do runs the actions of one step, failing the test if they do not finish
// within 30 s.
func (b *tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.snap(step)
		b.t.Fatalf("%s: %v", step, err)
	}
	if os.Getenv("SALVO_TEST_SCREENSHOTS") != "" {
		b.snap(step)
	}
}

// loads runs a trigger (a click that submits or follows a link) and waits
// for the page it leads to, so that no step reads the old page.
func loads[T any](trigger chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(cdppage.LoadEventFired, nil, trigger)(ctx, t)
		return err
	})
}

// eval evaluates a JavaScript expression.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.snap("eval")
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *tab) text(sel string) string {
	return eval[string](b, "document.querySelector("+strconv.Quote(sel)+").textContent.trim()")
}

func (b *tab) exists(sel string) bool {
	return eval[bool](b, "document.querySelector("+strconv.Quote(sel)+") !== null")
}

func (b *tab) html() string { return eval[string](b, "document.documentElement.outerHTML") }

func (b *tab) location() string { return eval[string](b, "window.location.href") }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// snap saves a screenshot and the HTML of the page.
func (b *tab) snap(name string) {
	if b.shots == "" {
		dir, err := os.MkdirTemp("", "salvo-browser-"+unsafeName.ReplaceAllString(b.t.Name(), "_")+"-")
		if err != nil {
			b.t.Logf("screenshot folder: %v", err)
			return
		}
		b.shots = dir
		b.t.Logf("screenshots of %s are in %s", b.t.Name(), dir)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	name = unsafeName.ReplaceAllString(name, "_")
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML")); err == nil {
		_ = os.WriteFile(filepath.Join(b.shots, name+".html"), []byte(html), 0o644)
	}
}

// noConsoleErrors fails the test if the page logged errors (a script
// exception, a Content-Security-Policy violation).
func (b *tab) noConsoleErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		b.t.Errorf("the page logged errors:\n%s", strings.Join(b.console, "\n"))
	}
}

// fillLogin opens the login form and fills it in.
func (b *tab) fillLogin(email, password string) {
	b.t.Helper()
	b.do("open the login form", chromedp.Navigate(b.base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
}

// login submits the login form.
func (b *tab) login(email, password string) {
	b.t.Helper()
	b.fillLogin(email, password)
	b.do("submit the login form", loads(chromedp.Click(chromedp.ID("login"))))
}

// loggedIn is a tab of a window of the given size, logged in to d.
func loggedIn(t *testing.T, d *dash, width, height int) *tab {
	t.Helper()
	b := newTab(t, d.Base, width, height)
	b.login(testEmail, testPassword)
	return b
}

func TestBrowserLogin(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := newTab(t, d.Base, desktopW, desktopH)
	b.login(testEmail, "not the password")
	b.do("see the login error", chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); got != "Wrong email or password." {
		t.Fatalf("error = %q", got)
	}
	b.login(testEmail, testPassword)
	b.do("land on the overview", chromedp.WaitVisible(chromedp.ID("who")))
	if got := b.text("#who"); got != testEmail {
		t.Errorf("header user = %q", got)
	}
	if got := b.text("#region"); got != "Region US" {
		t.Errorf("header region = %q", got)
	}
	if loc := b.location(); loc != d.Base+"/dashboard/" {
		t.Errorf("after login at %s", loc)
	}
	b.do("log out", loads(chromedp.Click(chromedp.CSS(".logout button"))), chromedp.WaitVisible(chromedp.ID("email")))
	b.do("a page needs login again", chromedp.Navigate(b.base+"/dashboard/account/api-keys"), chromedp.WaitVisible(chromedp.ID("email")))
	b.noConsoleErrors()
}

// TestBrowserRevealPrimaryKey follows the seed's steps: Account Settings →
// API Keys → the eye icon next to the primary key.
func TestBrowserRevealPrimaryKey(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, desktopW, desktopH)
	b.do("open API Keys", chromedp.WaitVisible(chromedp.ID("who")),
		loads(chromedp.Click(chromedp.CSS(`a[href="/dashboard/account/api-keys"]`))), chromedp.WaitVisible(chromedp.ID("reveal")))
	if strings.Contains(b.html(), d.Key) || b.text("#primary-key") == d.Key {
		t.Fatal("the primary key is on the page before the eye icon is clicked")
	}
	b.do("click the eye icon", chromedp.Click(chromedp.ID("reveal")), chromedp.WaitVisible(chromedp.CSS("#primary-copy button")))
	if got := b.text("#primary-key"); got != d.Key {
		t.Fatalf("revealed %q, want the primary key", got)
	}
	if got := eval[string](b, `document.getElementById("reveal").getAttribute("aria-label")`); got != "Hide primary key" {
		t.Errorf("eye icon label after reveal = %q", got)
	}
	b.do("click the eye icon again", chromedp.Click(chromedp.ID("reveal")), chromedp.WaitNotVisible(chromedp.CSS("#primary-copy button")))
	if strings.Contains(b.html(), d.Key) {
		t.Fatal("the key stays on the page after hiding it")
	}
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("reveal")))
	if strings.Contains(b.html(), d.Key) {
		t.Fatal("the key is on the reloaded page")
	}
	b.noConsoleErrors()
}

// TestBrowserSendingKey follows the seed's steps: Sending → Domains → the
// domain → Domain Settings → Sending API keys → Add Sending Key; the key
// is shown once and works as a sending key.
func TestBrowserSendingKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	b := loggedIn(t, f.dash, desktopW, desktopH)
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: f.Base,
	}); err != nil {
		t.Fatalf("clipboard permission: %v", err)
	}
	b.do("open the domain", chromedp.WaitVisible(chromedp.ID("who")), loads(chromedp.Navigate(f.Base+"/dashboard/domains")),
		loads(chromedp.Click(chromedp.CSS(`#domains a[href="/dashboard/domains/`+testDomain+`"]`))), chromedp.WaitVisible(chromedp.ID("verify")))
	b.do("open Domain Settings", loads(chromedp.Click(chromedp.CSS(`a[href$="/settings/sending-keys"]`))), chromedp.WaitVisible(chromedp.ID("key-description")))
	b.do("add a sending key",
		chromedp.SendKeys(chromedp.ID("key-description"), "newsletter app"),
		loads(chromedp.Click(chromedp.ID("create-key"))),
		chromedp.WaitVisible(chromedp.ID("new-secret")),
	)
	secretValue := b.text("#new-secret")
	if !strings.Contains(b.text("#new-secret-box .warning"), "will not be shown again") {
		t.Errorf("warning = %q", b.text("#new-secret-box .warning"))
	}
	if !strings.Contains(b.text("#sending-keys"), "newsletter app") {
		t.Errorf("the list does not show the new key: %q", b.text("#sending-keys"))
	}
	b.do("copy the key", chromedp.Click(chromedp.CSS("#new-secret-box button.copy")))
	clip, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("navigator.clipboard.readText()", chromedp.EvalAwaitPromise))
	if err != nil || clip != secretValue {
		t.Errorf("clipboard after copy = %q, %v; want the key", clip, err)
	}
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("key-description")))
	if b.exists("#new-secret") || strings.Contains(b.html(), secretValue) {
		t.Fatal("the key is shown again after a reload")
	}
	if !strings.Contains(b.text("#sending-keys"), "newsletter app") {
		t.Error("the key is not listed after the reload")
	}
	send := url.Values{"from": {"app@" + testDomain}, "to": {"someone@example.org"}, "subject": {"hi"}, "text": {"hi"}}
	if got := f.apiStatus(t, "POST", "/v3/"+testDomain+"/messages", secretValue, send); got == http.StatusUnauthorized {
		t.Errorf("POST /v3/%s/messages with the shown key: 401", testDomain)
	}
	if got := f.apiStatus(t, "GET", "/v3/domains", secretValue, nil); got != http.StatusUnauthorized {
		t.Errorf("GET /v3/domains with the sending key: %d, want 401", got)
	}
	b.noConsoleErrors()
}

// TestBrowserSendingKeyCannotLogIn: a sending key is not a login, and a
// browser that sends it in every request reads no dashboard page.
func TestBrowserSendingKeyCannotLogIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	b := newTab(t, f.Base, desktopW, desktopH)
	b.fillLogin("api", f.sendingKey) // Basic auth's user name is no email: the form itself refuses it
	b.do("submit", chromedp.Click(chromedp.ID("login")))
	if eval[bool](b, `document.getElementById("email").validity.valid`) || b.exists("#who") {
		t.Fatal(`the login form took "api" as an email`)
	}
	for _, email := range []string{testEmail, "api@" + testDomain} {
		b.login(email, f.sendingKey)
		b.do("see the login refused", chromedp.WaitVisible(chromedp.ID("form-error")))
		if b.exists("#who") {
			t.Fatalf("logged in as %q with a sending key", email)
		}
	}
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Basic " + b64("api:"+f.sendingKey)},
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.webServer(t).Routes() {
		if r.Public || (r.Method != http.MethodGet && r.Method != "") {
			continue
		}
		path := f.path(r.Pattern)
		b.do("open "+path, chromedp.Navigate(f.Base+path), chromedp.WaitVisible(chromedp.ID("email")))
		if !strings.HasPrefix(b.location(), f.Base+"/dashboard/login") || b.exists("#who") || strings.Contains(b.html(), f.sendingID) {
			t.Errorf("GET %s with the sending key: at %s", path, b.location())
		}
	}
}

// TestBrowserCreateDomain adds a domain from the UI on a phone-sized
// screen, sees its DNS records, publishes them and verifies.
func TestBrowserCreateDomain(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := loggedIn(t, d, phoneW, phoneH)
	b.do("add a domain", chromedp.Navigate(d.Base+"/dashboard/domains"), chromedp.WaitVisible(chromedp.ID("domain-name")),
		chromedp.SendKeys(chromedp.ID("domain-name"), testDomain),
		loads(chromedp.Click(chromedp.ID("add-domain"))),
		chromedp.WaitVisible(chromedp.ID("verify")),
	)
	dom, err := d.Domains.Get(context.Background(), testDomain)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]string{}
	for _, check := range []string{"spf", "dkim", "tracking", "mx"} {
		records[check] = b.text(`tr[data-check="` + check + `"]`)
	}
	if !strings.Contains(records["spf"], "v=spf1 include:spf.salvo.localhost ~all") ||
		!strings.Contains(records["dkim"], "salvo._domainkey."+testDomain) || !strings.Contains(records["dkim"], "p="+dom.DKIMPublic) ||
		!strings.Contains(records["mx"], "mxa.salvo.localhost") || !strings.Contains(records["tracking"], "email."+testDomain) {
		t.Fatalf("records on the page: %q", records)
	}
	if n := eval[int](b, `document.querySelectorAll("tr.record .valid-unknown").length`); n != 5 {
		t.Errorf("%d records unknown before verification, want 5", n)
	}
	if !eval[bool](b, "document.documentElement.scrollWidth <= window.innerWidth") {
		t.Error("the domain page is wider than a phone screen")
	}
	b.do("verify before publishing", loads(chromedp.Click(chromedp.ID("verify"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.Contains(got, "still unverified") || b.exists(".notice") {
		t.Errorf("a failed verify says %q", got)
	}
	for _, r := range d.Domains.Records(dom) {
		if r.Type == "TXT" {
			d.DNS.Add(t, fmt.Sprintf("%s. 60 IN TXT %q", r.Name, r.Value))
		}
	}
	b.do("verify", loads(chromedp.Click(chromedp.ID("verify"))))
	if got := b.text(".notice"); got != "DNS records checked: the domain is active." {
		t.Errorf("notice after verify: %q", got)
	}
	for _, check := range []string{"spf", "dkim"} {
		if got := b.text(`tr[data-check="` + check + `"] .badge`); got != "valid" {
			t.Errorf("%s after verify: %q", check, got)
		}
	}
	if got := b.text(".meta .badge"); got != store.DomainActive {
		t.Errorf("state after verify: %q", got)
	}
	b.do("back to the list", loads(chromedp.Click(chromedp.CSS(`.crumbs a`))), chromedp.WaitVisible(chromedp.ID("domains")))
	if row := b.text("#domains tbody tr"); !strings.Contains(row, testDomain) || !strings.Contains(row, "US") || !strings.Contains(row, "active") {
		t.Errorf("domain list row = %q", row)
	}
	if !eval[bool](b, "document.documentElement.scrollWidth <= window.innerWidth") {
		t.Error("the domain list is wider than a phone screen")
	}
	b.noConsoleErrors()
}
