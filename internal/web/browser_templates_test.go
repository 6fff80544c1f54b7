package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"
)

// frameHTML is the HTML of the document in the out-of-process frame
// whose URL ends with suffix (Chromium isolates a sandboxed iframe, so
// neither the page's scripts nor its DOM reach it: the test attaches to
// the frame's own target), "" when there is none yet.
func (b *tab) frameHTML(suffix string) string {
	b.t.Helper()
	targets, err := chromedp.Targets(b.ctx)
	if err != nil {
		b.t.Fatalf("targets: %v", err)
	}
	for _, ti := range targets {
		if ti.Type != "iframe" || !strings.HasSuffix(ti.URL, suffix) {
			continue
		}
		fctx, _ := chromedp.NewContext(b.ctx, chromedp.WithTargetID(ti.TargetID)) // detached when the test's browser ends
		ctx, cancel := context.WithTimeout(fctx, 5*time.Second)
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
		cancel()
		if err == nil {
			return html
		}
	}
	return ""
}

// waitFrame waits until the document of the frame at suffix contains want.
func (b *tab) waitFrame(step, suffix, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got := b.frameHTML(suffix)
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.snap(step)
			b.t.Fatalf("%s: the preview is %q, want it to contain %q", step, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserTemplates follows Sending → Templates: create a template
// with a first version, see its live preview change with the sample
// variables and the source (escaped as a send escapes), add a version,
// activate it, copy and delete versions, and delete the template.
func TestBrowserTemplates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	b := loggedIn(t, f.dash, desktopW, desktopH)
	confirms := b.acceptDialogs()
	ctx := context.Background()
	b.do("open Templates", loads(chromedp.Click(chromedp.ID("nav-templates"))), chromedp.WaitVisible(chromedp.ID("templates")))
	if got := b.text(`tr.template-row[data-name="fixture"] .active-version`); got != "v1" {
		t.Errorf("the fixture's active version is listed as %q", got)
	}
	b.fill(map[string]string{"tpl-name": "Welcome", "tpl-description": "the first mail", "tpl-content": "<h1>Hello {{name}}</h1>{{#if vip}}<p id=vip>VIP</p>{{/if}}"})
	b.do("create it", loads(chromedp.Click(chromedp.ID("template-create"))), chromedp.WaitVisible(chromedp.ID("tpl-preview")))
	if got := b.text("h1"); got != "welcome" {
		t.Errorf("template page heading = %q (names are lower case)", got)
	}
	b.waitFrame("the first preview", "/preview", "<h1>Hello </h1>")
	b.do("type sample variables", chromedp.Click(chromedp.ID("tpl-vars")), chromedp.KeyEvent("\b\b"),
		chromedp.SendKeys(chromedp.ID("tpl-vars"), `{"name": "<Ann>", "vip": true}`))
	got := b.waitFrame("the preview with variables", "/preview", "Hello &lt;Ann&gt;")
	if !strings.Contains(got, `<p id="vip">VIP</p>`) {
		t.Errorf("preview = %q, want the VIP paragraph", got)
	}
	b.do("break the template", chromedp.SendKeys(chromedp.ID("tpl-source"), "{{#if}"))
	b.waitFrame("the preview of a broken template", "/preview", "not valid Handlebars")
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("versions")))
	if got := eval[[]string](b, `[...document.querySelectorAll("#versions tr.version")].map(tr => tr.dataset.tag + (tr.dataset.active ? "*" : ""))`); len(got) != 1 || got[0] != "initial*" {
		t.Fatalf("versions = %q", got)
	}
	b.do("new version", loads(chromedp.Click(chromedp.ID("new-version"))), chromedp.WaitVisible(chromedp.ID("tpl-new-tag")))
	b.fill(map[string]string{"tpl-new-tag": "v2", "tpl-source": "<p>Hi {{name}}, v2</p>", "tpl-comment": "shorter"})
	b.do("add v2", loads(chromedp.Click(chromedp.ID("tpl-save"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	b.do("activate v2", loads(chromedp.Click(chromedp.CSS(`tr.version[data-tag="v2"] button.activate`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if c, err := f.Templates.Get(ctx, testDomain, "welcome", true); err != nil || c.Version == nil || c.Version.Tag != "v2" {
		t.Fatalf("active version after activate: %+v, %v", c.Version, err)
	}
	b.do("edit v2", chromedp.Navigate(f.Base+"/dashboard/templates/"+testDomain+"/welcome?version=v2"), chromedp.WaitVisible(chromedp.ID("tpl-source")))
	b.fill(map[string]string{"tpl-source": "<p>Hi {{name}}, v2.1</p>"})
	b.do("save v2", loads(chromedp.Click(chromedp.ID("tpl-save"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if c, err := f.Templates.Version(ctx, testDomain, "welcome", "v2"); err != nil || c.Version.Content != "<p>Hi {{name}}, v2.1</p>" || !c.Version.Active {
		t.Errorf("v2 after save: %+v, %v", c.Version, err)
	}
	b.fill(map[string]string{"test-to": "zed@example.org", "test-vars": `{"name": "Zed"}`})
	b.do("send a test of v2", loads(chromedp.Click(chromedp.ID("template-send-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	notice := b.text(".notice")
	id := notice[strings.Index(notice, "(<")+2 : strings.Index(notice, ">)")]
	var stored string
	for _, e := range f.events(t, id) {
		if e.Event == "accepted" && e.Storage != nil {
			stored = e.Storage.URL
		}
	}
	mg := mailgun.NewMailgun(testDomain, f.Key)
	mg.SetAPIBase(f.Base + "/v3")
	msg, err := mg.GetStoredMessage(ctx, stored)
	if err != nil || !strings.Contains(msg.BodyHtml, "Hi Zed, v2.1") || msg.Subject != "Test of welcome (v2)" || msg.Recipients != "zed@example.org" {
		t.Errorf("the test message %s: %q %q %q, %v", id, msg.Subject, msg.Recipients, msg.BodyHtml, err)
	}
	b.do("open copy", chromedp.Click(chromedp.CSS(`tr.version[data-tag="initial"] details.replace summary`)))
	b.fill(map[string]string{"copy-initial": "initial-copy"})
	b.do("copy initial", loads(chromedp.Click(chromedp.CSS(`tr.version[data-tag="initial"] details.replace button`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if c, err := f.Templates.Version(ctx, testDomain, "welcome", "initial-copy"); err != nil || !strings.HasPrefix(c.Version.Content, "<h1>Hello") {
		t.Errorf("the copy: %+v, %v", c.Version, err)
	}
	b.do("delete initial", loads(chromedp.Click(chromedp.CSS(`tr.version[data-tag="initial"] button.danger`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := eval[[]string](b, `[...document.querySelectorAll("#versions tr.version")].map(tr => tr.dataset.tag + (tr.dataset.active ? "*" : ""))`); strings.Join(got, " ") != "initial-copy v2*" {
		t.Errorf("versions after delete = %q", got)
	}
	b.snap("template-desktop")
	b.do("phone", chromedp.EmulateViewport(phoneW, phoneH), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("tpl-preview")))
	phoneFits(b, "the template editor")
	b.snap("template-phone")
	b.do("delete the template", loads(chromedp.Click(chromedp.ID("delete-template"))), chromedp.WaitVisible(chromedp.ID("templates")))
	if b.exists(`tr.template-row[data-name="welcome"]`) {
		t.Error("the deleted template is listed")
	}
	if got := confirms(); len(got) != 2 || !strings.HasPrefix(got[1], "Delete template welcome") {
		t.Errorf("confirmations = %q", got)
	}
	if _, err := f.Templates.Get(ctx, testDomain, "welcome", false); err == nil {
		t.Error("the template is still stored")
	}
	b.noConsoleErrors()
}
