package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/testutil"
)

// hostileMIME is a message whose parts try to get rendered: an HTML
// attachment with a path in its name, a script in an SVG, a name that is
// not ASCII, and an inline image the preview must show.
func hostileMIME(subject string) string {
	png := base64.StdEncoding.EncodeToString(pngBytes)
	return "From: App <app@" + testDomain + ">\r\nTo: someone@example.org\r\nSubject: " + subject + "\r\n" +
		"X-Note: <script>alert(1)</script>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: multipart/related; boundary=R\r\n\r\n" +
		"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi <img src=\"cid:logo%40x\"></p>\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-Id: <logo@x>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n" +
		"--R--\r\n" +
		"--B\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"../../etc/evil.html\"\r\n\r\n<script>alert(1)</script>\r\n" +
		"--B\r\nContent-Type: image/svg+xml\r\nContent-Disposition: attachment; filename=\"pic.svg\"\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n\r\n%PDF-1.4\r\n" +
		"--B--\r\n"
}

// sendMIME sends raw MIME through mailgun-go and returns its storage key.
func (f *fixture) sendMIME(t *testing.T, raw string) string {
	t.Helper()
	m := mailgun.NewMIMEMessage(io.NopCloser(strings.NewReader(raw)), "someone@example.org")
	return f.storageKey(t, f.send(t, f.sendingKey, m))
}

func messageURL(key string) string { return "/dashboard/logs/" + testDomain + "/messages/" + key }

// TestPreviewIsSandboxed checks the headers that keep a message's HTML
// from running scripts or fetching anything, and the inline image that
// is shown anyway.
func TestPreviewIsSandboxed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	const subject = "<b onmouseover=alert(1)>Preview</b>"
	key := f.sendMIME(t, hostileMIME(subject))
	c := f.client(t)
	c.login(testEmail, testPassword)
	logs := c.get("/dashboard/logs?recipient=someone%40example.org")
	for what, body := range map[string]string{"Logs": logs.Body, "message": c.get(messageURL(key)).Body} {
		if strings.Contains(body, subject) || !strings.Contains(body, "&lt;b onmouseover=alert(1)&gt;Preview&lt;/b&gt;") {
			t.Errorf("the %s page does not escape the subject", what)
		}
	}

	page := c.get(messageURL(key))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("message page: %d\n%s", page.StatusCode, page.Body)
	}
	iframes := regexp.MustCompile(`<iframe[^>]*>`).FindAllString(page.Body, -1)
	if len(iframes) != 1 || !strings.Contains(iframes[0], ` sandbox="" `) || strings.Contains(iframes[0], "allow-") {
		t.Errorf("preview iframe = %q, want one with an empty sandbox", iframes)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'self'") ||
		!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("message page CSP = %q", csp)
	}
	if strings.Contains(page.Body, "<script>alert(1)</script>") || !strings.Contains(page.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the X-Note header is not escaped on the message page")
	}

	for _, remote := range []bool{false, true} {
		path := messageURL(key) + "/html"
		if remote {
			path += "?images=remote"
		}
		p := c.get(path)
		h := p.Header
		csp := h.Get("Content-Security-Policy")
		directives := map[string]string{}
		for _, d := range strings.Split(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		img := "data:"
		if remote {
			img = "data: http: https:"
		}
		_, sandboxed := directives["sandbox"]
		_, scripts := directives["script-src"]
		if p.StatusCode != http.StatusOK || !sandboxed || directives["sandbox"] != "" || scripts ||
			directives["default-src"] != "'none'" || directives["img-src"] != img || directives["frame-ancestors"] != "'self'" ||
			directives["form-action"] != "'none'" || directives["base-uri"] != "'none'" {
			t.Errorf("GET %s: %d, CSP %q", path, p.StatusCode, csp)
		}
		if h.Get("X-Frame-Options") != "SAMEORIGIN" || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s headers: %v", path, h)
		}
		want := `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(pngBytes) + `">`
		if !strings.Contains(p.Body, want) {
			t.Errorf("GET %s: the inline image is not a data: URL:\n%s", path, p.Body)
		}
	}
}

// TestAttachmentsAreDownloads: every part comes with its own type, as an
// attachment under a name without directories, and sandboxed in case a
// browser opens it anyway.
func TestAttachmentsAreDownloads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	key := f.sendMIME(t, hostileMIME("Attachments"))
	c := f.client(t)
	c.login(testEmail, testPassword)
	want := []struct{ ct, disposition, body string }{
		{"image/png", `attachment; filename=attachment-1`, string(pngBytes)},
		{"text/html", `attachment; filename=evil.html`, "<script>alert(1)</script>"},
		{"image/svg+xml", `attachment; filename=pic.svg`, `onload="alert(1)"`},
		{"application/pdf", `attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf`, "%PDF-1.4"},
	}
	for n, w := range want {
		p := c.get(fmt.Sprintf("%s/attachments/%d", messageURL(key), n))
		h := p.Header
		if p.StatusCode != http.StatusOK || h.Get("Content-Type") != w.ct || h.Get("Content-Disposition") != w.disposition ||
			h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(p.Body, w.body) {
			t.Errorf("attachment %d: %d %v\n%q", n, p.StatusCode, h, p.Body)
		}
	}
	for _, n := range []string{"4", "-1", "x", "01x"} {
		if p := c.get(messageURL(key) + "/attachments/" + n); p.StatusCode != http.StatusNotFound {
			t.Errorf("attachment %s: %d, want 404", n, p.StatusCode)
		}
	}
	page := c.get(messageURL(key))
	for _, name := range []string{"attachment-1", "evil.html", "pic.svg", "résumé.pdf"} {
		if !strings.Contains(page.Body, ">"+name+"</a>") {
			t.Errorf("the message page does not list %s", name)
		}
	}
	// Four attachments and the raw message (.eml).
	if n := strings.Count(page.Body, ` download>`); n != 5 || !strings.Contains(page.Body, `id="raw-download"`) {
		t.Errorf("%d download links, want 5 (4 attachments, the raw message)", n)
	}
}

// TestMessageNotFound: an unknown key, another domain's path and an
// expired message are 404s.
func TestMessageNotFound(t *testing.T) {
	t.Parallel()
	clock := testutil.NewClock(time.Now().UTC())
	f := newFixture(t, dashOptions{clock: clock, configure: func(c *config.Config) { c.Retention = time.Hour }})
	if _, err := f.Domains.Create(context.Background(), domains.CreateRequest{Name: "other.example.com"}); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(testEmail, testPassword)
	if p := c.get(messageURL(f.msgKey)); p.StatusCode != http.StatusOK {
		t.Fatalf("the fixture message: %d", p.StatusCode)
	}
	for _, path := range []string{messageURL("no-such-key"), "/dashboard/logs/other.example.com/messages/" + f.msgKey,
		"/dashboard/logs/other.example.com/messages/" + f.msgKey + "/html", messageURL("nope") + "/attachments/0"} {
		if p := c.get(path); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.StatusCode)
		}
	}
	clock.Advance(2 * time.Hour)
	c.login(testEmail, testPassword) // the session expired too
	for _, path := range []string{messageURL(f.msgKey), messageURL(f.msgKey) + "/html", messageURL(f.msgKey) + "/attachments/0"} {
		if p := c.get(path); p.StatusCode != http.StatusNotFound || !strings.Contains(p.Body, "expired") {
			t.Errorf("GET %s after the retention: %d", path, p.StatusCode)
		}
	}
}
