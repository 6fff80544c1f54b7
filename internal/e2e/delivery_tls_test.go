package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliverySTARTTLS: STARTTLS is used whenever offered; the certificate
// counts as verified only when the node trusts its issuer; o:require-tls
// refuses clear text and unverified certificates (unless
// o:skip-verification), and never sends in clear.
func TestDeliverySTARTTLS(t *testing.T) {
	t.Parallel()
	trusted := testutil.StartFakeMX(t, testutil.MXOptions{TLS: true, Hostnames: []string{"mx.trusted.test"}})
	untrusted := testutil.StartFakeMX(t, testutil.MXOptions{TLS: true, Hostnames: []string{"mx.untrusted.test"}})
	clear := testutil.StartFakeMX(t, testutil.MXOptions{})
	e := startEnv(t, envOptions{rootCAs: trusted.RootCAs})
	e.addMX("trusted.test", trusted)
	e.addMX("untrusted.test", untrusted)
	e.addMX("clear.test", clear)

	tests := []struct {
		name                string
		rcpt                string
		mx                  *testutil.FakeMX // the recipient's MX
		requireTLS, skipVer bool
		tls, verified       bool
		refused             string // the failed event's message, when refused
	}{
		{name: "verified", rcpt: "a@trusted.test", mx: trusted, tls: true, verified: true},
		{name: "opportunistic", rcpt: "b@untrusted.test", mx: untrusted, tls: true},
		{name: "require verified", rcpt: "c@trusted.test", mx: trusted, requireTLS: true, tls: true, verified: true},
		{name: "require unverified", rcpt: "d@untrusted.test", mx: untrusted, requireTLS: true,
			refused: "TLS is required but the certificate of mx.untrusted.test could not be verified"},
		{name: "require skip verification", rcpt: "e@untrusted.test", mx: untrusted, requireTLS: true, skipVer: true, tls: true},
		{name: "require clear", rcpt: "f@clear.test", mx: clear, requireTLS: true,
			refused: "TLS is required but mx.clear.test does not offer STARTTLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := e.message(tc.rcpt)
			m.SetRequireTLS(tc.requireTLS)
			m.SetSkipVerification(tc.skipVer)
			id := e.send(m)
			if tc.refused != "" {
				checkRefusedTLS(t, e, id, tc.refused)
				if n := len(receivedBy(tc.mx, tc.rcpt)); n != 0 {
					t.Fatalf("refused message was received %d times", n)
				}
				return
			}
			d := e.waitDelivered(id, 1)
			if ds := d.DeliveryStatus; isTrue(ds.TLS) != tc.tls || isTrue(ds.CertificateVerified) != tc.verified {
				t.Fatalf("tls %v verified %v, want %v %v", isTrue(ds.TLS), isTrue(ds.CertificateVerified), tc.tls, tc.verified)
			}
			r := receivedFor(t, tc.mx, tc.rcpt)
			if !r.TLS {
				t.Fatalf("message to %s arrived in clear", tc.rcpt)
			}
		})
	}
}

// TestDeliveryDomainRequireTLS: the domain's require_tls (PUT
// /v3/domains/{d}/connection) applies to every message sent after it.
func TestDeliveryDomainRequireTLS(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	clear := testutil.StartFakeMX(t, testutil.MXOptions{})
	e.addMX("clear.test", clear)
	if err := e.MG.UpdateDomainConnection(context.Background(), senderDomain, mailgun.DomainConnection{RequireTLS: true}); err != nil {
		t.Fatal(err)
	}
	id := e.send(e.message("g@clear.test"))
	checkRefusedTLS(t, e, id, "TLS is required but mx.clear.test does not offer STARTTLS")
	if n := len(clear.Messages()); n != 0 || clear.Sessions() == 0 {
		t.Fatalf("the server without STARTTLS received %d messages in %d sessions", n, clear.Sessions())
	}
}

// checkRefusedTLS checks that a message was refused for its TLS policy: a
// temporary failure saying why, and retried later.
func checkRefusedTLS(t *testing.T, e *deliveryEnv, id, why string) {
	t.Helper()
	f := e.waitFailed(id, "temporary", "generic")
	if ds := f.DeliveryStatus; ds.Message != why || ds.EnhancedCode != "4.7.10" || ds.RetrySeconds != 600 {
		t.Fatalf("refusal status = %+v, want message %q", ds, why)
	}
}

// receivedFor returns the one message mx received for rcpt.
func receivedFor(t *testing.T, mx *testutil.FakeMX, rcpt string) testutil.Received {
	t.Helper()
	found := receivedBy(mx, rcpt)
	if len(found) != 1 {
		t.Fatalf("%d messages received for %s, want 1", len(found), rcpt)
	}
	return found[0]
}

// receivedBy returns the messages mx received for rcpt.
func receivedBy(mx *testutil.FakeMX, rcpt string) []testutil.Received {
	var found []testutil.Received
	for _, r := range mx.Messages() {
		for _, to := range r.To {
			if to == rcpt {
				found = append(found, r)
			}
		}
	}
	return found
}

// TestDeliveryDKIM: a received message carries a DKIM signature that
// verifies against the record the API asked to publish; o:dkim=no sends
// none.
func TestDeliveryDKIM(t *testing.T) {
	t.Parallel()
	e, mx := startEnvMX(t, envOptions{}, "dkim.test")

	m := e.message("signed@dkim.test")
	m.AddHeader("X-Campaign", "spring")
	if err := m.AddVariable("order", "42"); err != nil {
		t.Fatal(err)
	}
	e.waitDelivered(e.send(m), 1)
	checkDKIM(t, e, receivedFor(t, mx, "signed@dkim.test").Data)

	m = e.message("unsigned@dkim.test")
	m.SetDKIM(false)
	e.waitDelivered(e.send(m), 1)
	if raw := receivedFor(t, mx, "unsigned@dkim.test").Data; bytes.Contains(raw, []byte("DKIM-Signature:")) {
		t.Fatalf("o:dkim=no message is signed:\n%s", raw)
	}
}

// checkDKIM verifies raw's one DKIM signature through the test DNS server.
func checkDKIM(t *testing.T, e *deliveryEnv, raw []byte) {
	t.Helper()
	resolver := dns.New(e.DNS.Addr)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return resolver.LookupTXT(context.Background(), name) },
	})
	if err != nil {
		t.Fatalf("dkim verify: %v", err)
	}
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != senderDomain {
		t.Fatalf("want one valid signature of %s, got %+v (err %v)\n%s", senderDomain, vs, firstErr(vs), raw)
	}
	for _, h := range []string{"from", "to", "subject", "message-id", "date"} {
		if !containsFold(vs[0].HeaderKeys, h) {
			t.Errorf("signature does not cover %s: %v", h, vs[0].HeaderKeys)
		}
	}
}

func firstErr(vs []*dkim.Verification) error {
	for _, v := range vs {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
