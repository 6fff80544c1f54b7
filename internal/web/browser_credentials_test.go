package web_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/domains"
)

// relaySend logs in to the app's SMTP relay over STARTTLS with AUTH PLAIN
// and submits one message from login; it returns the DATA reply text,
// which go-smtp hands back only for a 250, or the first error.
func (d *dash) relaySend(t *testing.T, login, password string) (string, error) {
	t.Helper()
	c, err := smtp.DialStartTLS(d.SubmissionAddr(), &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}) //nolint:gosec // the app's self-signed certificate
	if err != nil {
		t.Fatalf("dial the relay: %v", err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", login, password)); err != nil {
		return "", err
	}
	if err := c.Mail(login, nil); err != nil {
		return "", err
	}
	if err := c.Rcpt("someone@dest.example", nil); err != nil {
		return "", err
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	msg := "From: " + login + "\r\nTo: someone@dest.example\r\nSubject: relay check\r\n\r\nSent with SMTP credentials from the dashboard.\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	return resp.StatusText, nil
}

// listedCredentials are the logins the SMTP credentials tab lists.
func (b *tab) listedCredentials() []string {
	return eval[[]string](b, `[...document.querySelectorAll("#credentials tr.credential")].map(tr => tr.dataset.login)`)
}

var queuedRE = regexp.MustCompile(`queued as <([^>]+)>`)

// TestBrowserSMTPCredentials follows Domain Settings → SMTP credentials on
// a phone-sized screen: add a login with a generated password, see it
// once and copy it, and send a message with it through the SMTP relay
// (STARTTLS, AUTH PLAIN), which answers 250; add a login with a typed
// password, which works too and is never shown, and give it a new one;
// delete the first, whose password then fails.
func TestBrowserSMTPCredentials(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	if _, err := d.Domains.Create(context.Background(), domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, d, phoneW, phoneH)
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: d.Base,
	}); err != nil {
		t.Fatalf("clipboard permission: %v", err)
	}
	confirms := b.acceptDialogs()

	b.do("open Domain Settings", chromedp.Navigate(d.Base+"/dashboard/domains/"+testDomain),
		loads(chromedp.Click(chromedp.CSS(`a[href$="/settings/sending-keys"]`))), chromedp.WaitVisible(chromedp.ID("settings-tab-smtp-credentials")))
	b.do("open the SMTP credentials tab", loads(chromedp.Click(chromedp.ID("settings-tab-smtp-credentials"))), chromedp.WaitVisible(chromedp.ID("cred-login")))
	if got := b.text(`.tabs.sub a[aria-current="page"]`); got != "SMTP credentials" {
		t.Errorf("current settings tab = %q", got)
	}
	_, port, _ := net.SplitHostPort(d.SubmissionAddr())
	_, tlsPort, _ := net.SplitHostPort(d.SubmissionTLSAddr())
	if got := [3]string{b.text("#smtp-host"), b.text("#smtp-port"), b.text("#smtps-port")}; got != [3]string{d.Cfg.SMTPHost, port, tlsPort} || port == "" {
		t.Errorf("the page says connect to %q, want %s with STARTTLS on %s and TLS on %s", got, d.Cfg.SMTPHost, port, tlsPort)
	}
	b.snap("credentials-phone")
	if !b.exists("#no-credentials") {
		t.Error("a domain without credentials lists some")
	}
	if !eval[bool](b, `document.getElementById("cred-password").disabled`) {
		t.Error("the password field is usable while a generated password is chosen")
	}

	b.do("add a login with a generated password", chromedp.SendKeys(chromedp.ID("cred-login"), "relay"),
		loads(chromedp.Click(chromedp.ID("cred-add-button"))), chromedp.WaitVisible(chromedp.ID("new-password")))
	login, password := b.text("#new-login"), b.text("#new-password")
	if login != "relay@"+testDomain || len(password) < 16 {
		t.Fatalf("shown login %q and password %q", login, password)
	}
	if w := b.text("#new-password-box .warning"); !strings.Contains(w, "will not be shown again") {
		t.Errorf("warning = %q", w)
	}
	b.do("copy the password", chromedp.Click(chromedp.CSS("#new-password-box button.copy")))
	clip, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("navigator.clipboard.readText()", chromedp.EvalAwaitPromise))
	if err != nil || clip != password {
		t.Errorf("clipboard after copy = %q, %v; want the password", clip, err)
	}
	phoneFits(b, "the SMTP credentials tab with a new password")
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("cred-login")))
	if b.exists("#new-password") || strings.Contains(b.html(), password) {
		t.Fatal("the password is shown again after a reload")
	}
	if got := b.listedCredentials(); !slices.Equal(got, []string{login}) {
		t.Fatalf("listed credentials = %v", got)
	}

	reply, err := d.relaySend(t, login, password)
	m := queuedRE.FindStringSubmatch(reply)
	if err != nil || m == nil {
		t.Fatalf("send with the new credentials: %q, %v; want 250 OK: queued as <id>", reply, err)
	}
	if ev := d.waitEvent(t, m[1], "accepted", "", "someone@dest.example"); ev.Method != "smtp" {
		t.Errorf("accepted event of the relayed message: method %q, want smtp", ev.Method)
	}

	typed := "typed-pass-123"
	b.do("add a login with a typed password", chromedp.Click(chromedp.ID("pw-type")),
		chromedp.SendKeys(chromedp.ID("cred-login"), "typed"), chromedp.SendKeys(chromedp.ID("cred-password"), typed),
		loads(chromedp.Click(chromedp.ID("cred-add-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if b.exists("#new-password") || strings.Contains(b.html(), typed) {
		t.Error("a typed password is shown")
	}
	if got := b.listedCredentials(); !slices.Equal(got, []string{login, "typed@" + testDomain}) {
		t.Fatalf("listed credentials = %v", got)
	}
	if reply, err := d.relaySend(t, "typed@"+testDomain, typed); err != nil || !queuedRE.MatchString(reply) {
		t.Errorf("send with the typed password: %q, %v", reply, err)
	}
	row := `tr[data-login="typed@` + testDomain + `"]`
	b.do("change the typed login's password", chromedp.Click(chromedp.CSS(row+" details.replace summary")),
		chromedp.SendKeys(chromedp.CSS(row+` input[type="password"]`), typed+"-new"),
		loads(chromedp.Click(chromedp.CSS(row+" details.replace button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text(".notice"); got != "Password of typed@"+testDomain+" changed." || strings.Contains(b.html(), typed) {
		t.Errorf("after changing the password: notice %q, or the page shows it", got)
	}
	if reply, err := d.relaySend(t, "typed@"+testDomain, typed+"-new"); err != nil || !queuedRE.MatchString(reply) {
		t.Errorf("send with the changed password: %q, %v", reply, err)
	}
	phoneFits(b, "the SMTP credentials tab")

	b.do("delete the first login", loads(chromedp.Click(chromedp.CSS(`tr[data-login="`+login+`"] button.danger`))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || !strings.HasPrefix(got[0], "Delete the SMTP credentials "+login+"?") {
		t.Errorf("confirmations = %q", got)
	}
	if got := b.listedCredentials(); !slices.Equal(got, []string{"typed@" + testDomain}) {
		t.Errorf("listed credentials after delete = %v", got)
	}
	_, err = d.relaySend(t, login, password)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("AUTH with the deleted login: %v, want 535", err)
	}
	b.noConsoleErrors()
}
