package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestRelayAcceptsOverTLS submits through the relay over STARTTLS (AUTH
// PLAIN) and implicit TLS (AUTH LOGIN), on SQLite and PostgreSQL: the
// message goes through the send path (events with method smtp and
// envelope.transport smtp, DKIM, delivery to the MX).
func TestRelayAcceptsOverTLS(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startRelayEnv(t, pg, nil)
		checkExtensions(t, e)
		for i, mode := range []struct {
			dial string
			auth sasl.Client
			addr string
		}{
			{"starttls", sasl.NewPlainClient("", relayLogin, relayPassword), e.app.SubmissionAddr()},
			{"implicit", sasl.NewLoginClient(strings.ToUpper(relayLogin), relayPassword), e.app.SubmissionTLSAddr()},
		} {
			c := dialSMTP(t, mode.addr, mode.dial)
			if err := c.Auth(mode.auth); err != nil {
				t.Fatalf("%s: AUTH: %v", mode.dial, err)
			}
			subject := "relay test " + mode.dial
			raw := rfcMessage("App <app@"+testDomain+">", "someone@example.org", subject, "Hello ünïcode "+mode.dial,
				"Content-Transfer-Encoding: 8bit")
			reply, err := submit(c, "app@"+testDomain, []string{"someone@example.org", "other@example.net"}, raw)
			if err != nil || !strings.Contains(reply, "queued as <") {
				t.Fatalf("%s: submit = %q, %v", mode.dial, reply, err)
			}
			msgs := waitReceived(t, e, 2*(i+1))
			got := msgs[len(msgs)-1]
			if header(got.Data, "Subject") != subject || header(got.Data, "DKIM-Signature") == "" ||
				!strings.Contains(string(got.Data), "Hello ünïcode") {
				t.Errorf("%s: delivered message lacks its subject, DKIM signature or 8-bit body:\n%s", mode.dial, got.Data)
			}
		}
		for _, ev := range e.events(url.Values{"event": {"accepted"}}) {
			if ev.Method != "smtp" || ev.Envelope == nil || ev.Envelope.Transport != "smtp" {
				t.Errorf("accepted event: method %q, envelope %+v; want smtp and transport smtp", ev.Method, ev.Envelope)
			}
		}
		e.waitEvents("delivered", 4)
	})
}

// waitReceived waits until the fake MX got n messages and returns them.
func waitReceived(t *testing.T, e *sendEnv, n int) []testutil.Received {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool { return len(e.mx.Messages()) >= n },
		func() string { return "MX received " + strconv.Itoa(len(e.mx.Messages())) + " < " + strconv.Itoa(n) })
	return e.mx.Messages()
}

// checkExtensions: EHLO offers STARTTLS and no AUTH in clear; after
// STARTTLS, AUTH PLAIN LOGIN, SIZE, PIPELINING, 8BITMIME, SMTPUTF8 and
// enhanced status codes.
func checkExtensions(t *testing.T, e *sendEnv) {
	t.Helper()
	plain := dialSMTP(t, e.app.SubmissionAddr(), "plain")
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Error("EHLO in clear does not offer STARTTLS")
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("EHLO in clear offers AUTH")
	}
	c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	for _, ext := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO after STARTTLS does not offer %s", ext)
		}
	}
	if _, params := c.Extension("AUTH"); params != "PLAIN LOGIN" {
		t.Errorf("AUTH offers %q, want PLAIN LOGIN", params)
	}
	if size, ok := c.MaxMessageSize(); !ok || size != e.app.Cfg.MaxMessageBytes {
		t.Errorf("SIZE = %d, %v; want %d", size, ok, e.app.Cfg.MaxMessageBytes)
	}
}

// TestRelayRefusals: AUTH in clear, a wrong password or login, MAIL
// without AUTH, a sender of another domain and an oversize message are
// refused with their enhanced codes, and leave nothing behind.
func TestRelayRefusals(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, func(c *config.Config) { c.MaxMessageBytes = 64 << 10 })
	raw := rfcMessage("app@"+testDomain, "x@example.org", "refused", "body")

	plain := dialSMTP(t, e.app.SubmissionAddr(), "plain")
	wantSMTPError(t, "AUTH in clear", plain.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)), 523, "5.7.10", "TLS is required")
	_, err := submit(plain, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "MAIL without AUTH", err, 530, "5.7.0", "Authentication required")

	c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	wantSMTPError(t, "wrong password", c.Auth(sasl.NewPlainClient("", relayLogin, "wrong-password")), 535, "5.7.8", "invalid")
	wantSMTPError(t, "unknown login", c.Auth(sasl.NewLoginClient("nobody@"+testDomain, relayPassword)), 535, "5.7.8", "invalid")
	wantSMTPError(t, "identity of another user", c.Auth(sasl.NewPlainClient("postmaster@"+testDomain, relayLogin, relayPassword)),
		535, "5.7.8", "Authorization identity")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "MAIL after failed AUTHs", err, 530, "5.7.0", "Authentication required")

	c = relayClient(t, e)
	_, err = submit(c, "app@other.example.com", []string{"x@example.org"}, raw)
	wantSMTPError(t, "sender of another domain", err, 553, "5.7.1", "is not in the domain "+testDomain)
	_ = c.Reset()
	big := rfcMessage("app@"+testDomain, "x@example.org", "big", strings.Repeat("0123456789abcdef\r\n", 5000))
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, big)
	wantSMTPError(t, "oversize DATA", err, 552, "5.3.4", "size")
	_ = c.Reset()
	err = c.Mail("app@"+testDomain, &smtp.MailOptions{Size: 100 << 10})
	wantSMTPError(t, "MAIL SIZE over the limit", err, 552, "5.3.4", "size")
	_ = c.Reset()
	bad := rfcMessage("app@"+testDomain, "x@example.org", "bad header", "body", "X-Mailgun-Dkim: perhaps")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, bad)
	wantSMTPError(t, "bad X-Mailgun-Dkim", err, 550, "5.6.0", "X-Mailgun-Dkim must be yes or no")
	_ = c.Reset()
	tmpl := rfcMessage("app@"+testDomain, "x@example.org", "template", "body", "X-Mailgun-Template-Name: welcome")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, tmpl)
	wantSMTPError(t, "unknown X-Mailgun-Template-Name", err, 550, "5.6.0", "welcome")
	_ = c.Reset()
	tmpl = rfcMessage("app@"+testDomain, "x@example.org", "template", "body", "X-Mailgun-Template-Version: v2")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, tmpl)
	wantSMTPError(t, "X-Mailgun-Template-Version alone", err, 550, "5.6.0", "needs X-Mailgun-Template-Name")
	_ = c.Reset()
	tmpl = rfcMessage("app@"+testDomain, "x@example.org", "template", "body", "X-Mailgun-Template-Name: welcome",
		"X-Mailgun-Template-Variables: [1, 2]")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, tmpl)
	wantSMTPError(t, "X-Mailgun-Template-Variables not an object", err, 550, "5.6.0", "not a JSON object")
	e.assertNothingStored("refused submissions")
}

// TestRelayLimits: failed AUTHs make further attempts wait (even with the
// right password), and messages per connection and per credential are
// limited.
func TestRelayLimits(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, func(c *config.Config) {
		c.LoginFailureLimit = 2
		c.SMTP.RatePerConnection, c.SMTP.RatePerCredential = 0.01, 0.01 // one message, then one per 100 s
	})
	c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	for range 3 { // two free failures, then the third makes the next attempt wait
		wantSMTPError(t, "wrong password", c.Auth(sasl.NewPlainClient("", relayLogin, "nope-nope")), 535, "5.7.8", "invalid")
	}
	wantSMTPError(t, "AUTH after three failures", c.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)),
		454, "4.7.0", "try again in")
	e.clock.Advance(time.Hour) // the backoff is over
	c = relayClient(t, e)
	raw := rfcMessage("app@"+testDomain, "x@example.org", "limited", "body")
	if _, err := submit(c, "app@"+testDomain, []string{"x@example.org"}, raw); err != nil {
		t.Fatalf("first message: %v", err)
	}
	_, err := submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "second message on the connection", err, 451, "4.7.1", "rate limit")
	other := relayClient(t, e)
	_, err = submit(other, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "the credential's next message on another connection", err, 451, "4.7.1", "rate limit")
}

// TestRelayInsecureLoopback: with --smtp-insecure-auth-loopback a client
// on 127.0.0.1 may AUTH without TLS (development).
func TestRelayInsecureLoopback(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, func(c *config.Config) { c.SMTP.InsecureAuthLoopback = true })
	c := dialSMTP(t, e.app.SubmissionAddr(), "plain")
	if err := c.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)); err != nil {
		t.Fatalf("AUTH in clear on loopback: %v", err)
	}
	if _, err := submit(c, "app@"+testDomain, []string{"x@example.org"}, rfcMessage("app@"+testDomain, "x@example.org", "dev", "body")); err != nil {
		t.Fatalf("submit: %v", err)
	}
	waitReceived(t, e, 1)
}

// TestRelayToList: a message submitted through the SMTP relay to a
// mailing list's address fans out like an API send: one personalised copy
// per subscribed member, none for an unsubscribed one, To left as the
// list. The relay is authenticated, so even a readonly list takes it.
func TestRelayToList(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, nil)
	list := "crew@" + testDomain
	e.app.Call(t, http.MethodPost, "/v3/lists", e.app.Key, testutil.Form(url.Values{
		"address": {list}, "access_level": {"readonly"}})).Want(t, http.StatusOK)
	for _, m := range []struct{ addr, name, sub string }{{"ann@crew.test", "Ann", "yes"}, {"bob@crew.test", "Bob", "yes"}, {"gone@crew.test", "Gone", "no"}} {
		e.app.Call(t, http.MethodPost, "/v3/lists/"+list+"/members", e.app.Key, testutil.Form(url.Values{
			"address": {m.addr}, "name": {m.name}, "subscribed": {m.sub}})).Want(t, http.StatusOK)
	}
	relaySubmit(t, e, []string{list}, rfcMessage("app@"+testDomain, list, "Hello %recipient_name%", "For %recipient_email%"))
	got := waitReceived(t, e, 2)
	time.Sleep(300 * time.Millisecond) // let a wrong copy arrive before looking
	got = e.mx.Messages()
	seen := map[string]bool{}
	for _, r := range got {
		if len(r.To) != 1 {
			t.Fatalf("a list copy went to %v", r.To)
		}
		rcpt := r.To[0]
		seen[rcpt] = true
		name := map[string]string{"ann@crew.test": "Ann", "bob@crew.test": "Bob"}[rcpt]
		if header(r.Data, "Subject") != "Hello "+name || !strings.Contains(string(r.Data), "For "+rcpt) || header(r.Data, "To") != list {
			t.Errorf("copy for %s:\n%s", rcpt, r.Data)
		}
	}
	if len(got) != 2 || !seen["ann@crew.test"] || !seen["bob@crew.test"] {
		t.Errorf("copies went to %v, want the two subscribed members", seen)
	}
}

// TestRelayTemplate: the X-Mailgun-Template-* headers are the relay's
// template, t:version and t:variables (docs/mailgun-contract.md §12.2): the delivered
// message is the stored template's version rendered with the
// X-Mailgun-Variables data overridden by X-Mailgun-Template-Variables, and
// no X-Mailgun-* header is left.
func TestRelayTemplate(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, nil)
	create := func(path string, v url.Values) {
		if status, body := e.call(http.MethodPost, path, formBody(v)); status != http.StatusOK {
			t.Fatalf("POST %s = %d %s", path, status, body)
		}
	}
	base := "/v3/" + testDomain + "/templates"
	create(base, url.Values{"name": {"welcome"}, "template": {`<p>Hello {{who}} of {{team}}</p>`}, "tag": {"v1"}})
	create(base+"/welcome/versions", url.Values{"tag": {"v2"}, "template": {`<p>Version two for {{who}}</p>`}})
	raw := "From: app@" + testDomain + "\r\nTo: z@example.net\r\nSubject: Welcome\r\nX-Mailgun-Template-Name: welcome\r\n" +
		`X-Mailgun-Variables: {"who": "Nobody", "team": "Blue"}` + "\r\n" + `X-Mailgun-Template-Variables: {"who": "Zoe"}` + "\r\n" +
		"Content-Type: text/plain\r\n\r\nignored body\r\n"
	relaySubmit(t, e, []string{"z@example.net"}, raw)
	relaySubmit(t, e, []string{"z@example.net"}, strings.Replace(raw, "X-Mailgun-Template-Name: welcome\r\n",
		"X-Mailgun-Template-Name: welcome\r\nX-Mailgun-Template-Version: v2\r\n", 1))
	got := waitReceived(t, e, 2)
	bodies := map[string]bool{}
	for _, r := range got {
		ps := parts(t, r.Data)
		bodies[strings.TrimSpace(ps["text/html"])] = true
		if strings.Contains(string(r.Data), "ignored body") || strings.Contains(strings.ToLower(string(r.Data)), "x-mailgun-") {
			t.Errorf("delivered copy keeps the original body or an X-Mailgun-* header:\n%s", r.Data)
		}
	}
	if !bodies["<p>Hello Zoe of Blue</p>"] || !bodies["<p>Version two for Zoe</p>"] {
		t.Errorf("rendered bodies %v, want the active version and v2 with Zoe of Blue", bodies)
	}
}
