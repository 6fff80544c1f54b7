package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
)

// probe is a web server on 127.0.0.1 that a hostile message points at: it
// records every request, serves the hostile HTML at /raw and, at
// /control, a page that frames it without any sandbox.
type probe struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func startProbe(t *testing.T) *probe {
	p := &probe{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.Path)
		p.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store") // every load asks again
		switch r.URL.Path {
		case "/raw":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(hostileHTML(p.URL)))
		case "/control":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>control</title><iframe src="/raw"></iframe>`))
		case "/remote.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(pngBytes)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *probe) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}

// hostileHTML tries every way an HTML part could run code, leave its
// frame or reach the network. Each script reports to the parent window by
// postMessage (which crosses origins) and to the probe server.
func hostileHTML(probeURL string) string {
	return strings.NewReplacer("PROBE", probeURL).Replace(`<!doctype html>
<html><head>
<meta http-equiv="refresh" content="0;url=PROBE/refresh">
<title>hostile</title>
<script>parent.postMessage("script", "*"); try { parent.document.title = "pwned"; } catch (e) {}
window.pwned = true; fetch("PROBE/fetch");</script>
<link rel="stylesheet" href="PROBE/style.css">
</head>
<body onload="parent.postMessage('onload', '*')">
<p id="content">Hello preview</p>
<img src="PROBE/remote.png" alt="remote">
<img src="broken.png" onerror="parent.postMessage('onerror', '*'); new Image().src = 'PROBE/onerror';" alt="">
<img src="cid:logo.png" alt="inline">
<svg onload="parent.postMessage('svg', '*')"></svg>
<form action="PROBE/form" method="post"><button id="go">go</button></form>
<div style="background: url(PROBE/background.png)">styled</div>
</body></html>`)
}

// listenScript collects the messages posted to each window, installed
// through DevTools before any page script runs.
const listenScript = `window.__msgs = []; addEventListener("message", function (e) { window.__msgs.push(String(e.data)); });`

// TestBrowserPreviewRunsNoScripts opens the page of a hostile message: its
// HTML runs no script, loads nothing remote (until asked), does not
// navigate, and its attachment downloads instead of opening. A control
// page frames the same HTML without the sandbox and sees every script run,
// so the probes do detect what they look for.
func TestBrowserPreviewRunsNoScripts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	p := startProbe(t)
	m := mailgun.NewMessage("App <app@"+testDomain+">", "Hostile", "hostile text", "someone@example.org")
	m.SetHtml(hostileHTML(p.URL))
	m.AddReaderInline("logo.png", nopCloser(pngBytes))
	m.AddBufferAttachment("evil.html", []byte(`<script>parent.postMessage("attachment", "*"); document.title = "pwned";</script>`))
	key := f.storageKey(t, f.send(t, f.sendingKey, m))
	msgURL := f.Base + "/dashboard/logs/" + testDomain + "/messages/" + key

	b := loggedIn(t, f.dash, desktopW, desktopH)
	if _, err := chromedp.Call(b.ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: listenScript}); err != nil {
		t.Fatal(err)
	}
	b.do("open the message", chromedp.Navigate(msgURL), chromedp.WaitVisible(chromedp.ID("html-preview")))
	if got := eval[string](b, `document.getElementById("html-preview").getAttribute("sandbox")`); got != "" {
		t.Errorf("iframe sandbox = %q, want no permissions", got)
	}
	title := eval[string](b, "document.title")
	noScriptRan := func(when string) {
		t.Helper()
		if msgs := eval[[]string](b, "window.__msgs"); len(msgs) > 0 {
			t.Errorf("%s: the message's scripts ran and posted %v", when, msgs)
		}
		if got := eval[string](b, "document.title"); got != title || title != "Hostile · Salvo" {
			t.Errorf("%s: title = %q (was %q)", when, got, title)
		}
		if loc := b.location(); loc != msgURL && loc != msgURL+"?images=remote" {
			t.Errorf("%s: the page navigated to %s", when, loc)
		}
	}
	noScriptRan("preview")

	// With remote images asked for, the probe gets the image: the probe
	// would have seen the first load's requests too, which completed
	// before its load event.
	b.do("load remote images", loads(chromedp.Click(chromedp.ID("images-toggle"))), chromedp.WaitVisible(chromedp.ID("html-preview")))
	waitFor(t, "the remote image request", func() bool { return slices.Contains(p.requests(), "/remote.png") })
	noScriptRan("preview with remote images")
	got := p.requests()
	slices.Sort(got)
	if want := []string{"/background.png", "/remote.png"}; !slices.Equal(slices.Compact(slices.Clone(got)), want) || strings.Count(strings.Join(got, " "), "/remote.png") != 1 {
		t.Errorf("the probe got %v; want only %v, once, after remote images were asked for", got, want)
	}

	// The attachment is a download, even when opened by address.
	dir := t.TempDir()
	if _, err := chromedp.Call(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true),
	}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.Events(dctx, browser.DownloadProgress)
	n := eval[int](b, `[...document.querySelectorAll("#attachments a")].findIndex(a => a.textContent === "evil.html")`)
	if n < 0 {
		t.Fatalf("evil.html is not listed: %q", b.text("#attachments"))
	}
	attURL := msgURL + "/attachments/" + itoa(n)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](`window.location.href = `+jsString(attURL)+`; null`)); err != nil {
		t.Fatal(err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			b.snap("download")
			t.Fatalf("no download of %s: %v", attURL, err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), "attachment") {
		t.Errorf("downloaded %q, %v", data, err)
	}
	noScriptRan("after the attachment")

	// The control: the same HTML framed without a sandbox runs its scripts.
	b.do("open the control page", chromedp.Navigate(p.URL+"/control"))
	waitFor(t, "the control's scripts", func() bool {
		msgs := eval[[]string](b, "window.__msgs")
		return slices.Contains(msgs, "script") && slices.Contains(msgs, "onerror")
	})
	waitFor(t, "the control's meta refresh", func() bool { return slices.Contains(p.requests(), "/refresh") })
}

// waitFor polls cond until it holds, for at most waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, waitTimeout, cond, func() string { return "no " + what })
}
