package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// relayLogin and relayPassword are the SMTP credential every relay env
// creates for testDomain.
const (
	relayLogin    = "app@" + testDomain
	relayPassword = "app-password-1"
)

// startRelayEnv is a sendEnv (fake MX as smarthost, fake clock) with an
// SMTP credential for testDomain. Failed AUTHs wait only 10ms.
func startRelayEnv(t *testing.T, postgres bool, configure func(*config.Config)) *sendEnv {
	t.Helper()
	e := startSendEnv(t, sendEnvOptions{postgres: postgres, configure: func(c *config.Config) {
		c.SMTP.AuthFailureDelay = 10 * time.Millisecond
		if configure != nil {
			configure(c)
		}
	}})
	e.app.Call(t, http.MethodPost, "/v3/domains/"+testDomain+"/credentials", e.app.Key,
		testutil.Form(url.Values{"login": {"app"}, "password": {relayPassword}})).Want(t, http.StatusOK)
	return e
}

// clientTLS trusts Salvo's self-signed certificate (the tests check
// encryption, not the certificate chain).
func clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"} //nolint:gosec // self-signed test server
}

// dialSMTP opens a client session: mode "starttls" (STARTTLS after
// EHLO), "implicit" (TLS from the first byte) or "plain".
func dialSMTP(t testing.TB, addr, mode string) *smtp.Client {
	t.Helper()
	var c *smtp.Client
	var err error
	switch mode {
	case "starttls":
		c, err = smtp.DialStartTLS(addr, clientTLS())
	case "implicit":
		c, err = smtp.DialTLS(addr, clientTLS())
	default:
		c, err = smtp.Dial(addr)
	}
	if err != nil {
		t.Fatalf("dial %s (%s): %v", addr, mode, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	return c
}

// relayClient is an authenticated submission session over STARTTLS.
func relayClient(t testing.TB, e *sendEnv) *smtp.Client {
	t.Helper()
	c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	if err := c.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)); err != nil {
		t.Fatalf("AUTH PLAIN: %v", err)
	}
	return c
}

// submit runs one mail transaction and returns the DATA reply text, or
// the first error (an *smtp.SMTPError for a refusal).
func submit(c *smtp.Client, from string, to []string, raw string) (string, error) {
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	return resp.StatusText, nil
}

// wantSMTPError fails t unless err is an SMTP reply with code and
// enhanced code (e.g. "5.7.1"), and a text containing text.
func wantSMTPError(t *testing.T, what string, err error, code int, enhanced, text string) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Errorf("%s: got %v, want SMTP %d %s", what, err, code, enhanced)
		return
	}
	got := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	if se.Code != code || got != enhanced || !strings.Contains(se.Message, text) {
		t.Errorf("%s: got %d %s %q, want %d %s containing %q", what, se.Code, got, se.Message, code, enhanced, text)
	}
}

// rfcMessage is a small RFC 5322 message; extra holds more header lines.
func rfcMessage(from, to, subject, body string, extra ...string) string {
	var b strings.Builder
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return b.String()
}
