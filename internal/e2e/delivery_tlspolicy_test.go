package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/testutil"
)

// policyServer is a real HTTPS server on 127.0.0.1 serving MTA-STS
// policies (RFC 8461 §3.3) for the domains a test publishes, with a
// certificate from the test CA for mta-sts.<domain>.
type policyServer struct {
	*httptest.Server
	ca       *testutil.CA
	mu       sync.Mutex
	policies map[string]string          // by host (mta-sts.<domain>)
	certs    map[string]tls.Certificate // by host
	fetches  map[string]int
}

func startPolicyServer(t *testing.T, ca *testutil.CA) *policyServer {
	t.Helper()
	ps := &policyServer{ca: ca, policies: map[string]string{}, certs: map[string]tls.Certificate{}, fetches: map[string]int{}}
	ps.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		body, ok := ps.policies[r.Host]
		ps.fetches[r.Host]++
		ps.mu.Unlock()
		if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, body)
	}))
	ps.Server.TLS = &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		c, ok := ps.certs[hello.ServerName]
		if !ok {
			return nil, fmt.Errorf("no certificate for %q", hello.ServerName)
		}
		return &c, nil
	}}
	ps.StartTLS()
	t.Cleanup(ps.Close)
	return ps
}

// publishSTS publishes domain's MTA-STS record (id) and policy (body)
// through the env's DNS and network.
func (e *deliveryEnv) publishSTS(ps *policyServer, domain, id, body string) {
	host := "mta-sts." + domain
	ps.mu.Lock()
	ps.policies[host], ps.certs[host] = body, ps.ca.Issue(e.t, host)
	ps.mu.Unlock()
	ip := e.newIP()
	e.DNS.Add(e.t, fmt.Sprintf(`_mta-sts.%s. 60 IN TXT "v=STSv1; id=%s;"`, domain, id), fmt.Sprintf("%s. 60 IN A %s", host, ip))
	e.Net.RouteAddr(ip, ps.Listener.Addr().String())
}

// rawStatus is the delivery-status of a message's first delivered or
// failed event as the API returns it (with Salvo's own tls-policy fields,
// which the SDK does not decode).
func (e *deliveryEnv) rawStatus(t *testing.T, msgID string) map[string]any {
	t.Helper()
	var page struct {
		Items []struct {
			Event          string         `json:"event"`
			DeliveryStatus map[string]any `json:"delivery-status"`
		} `json:"items"`
	}
	e.App.Call(t, "GET", "/v3/"+senderDomain+"/events?ascending=yes&message-id="+url.QueryEscape(msgID), e.App.Key, testutil.Body{}).
		Want(t, http.StatusOK).Decode(t, &page)
	for _, it := range page.Items {
		if it.Event == "delivered" || it.Event == "failed" {
			return it.DeliveryStatus
		}
	}
	t.Fatalf("no delivered or failed event for %s", msgID)
	return nil
}

func spkiSHA256(mx *testutil.FakeMX) string {
	s := sha256.Sum256(mx.Leaf.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}

// TestDeliveryTLSPolicy: MTA-STS (RFC 8461) and DANE (RFC 7672) both
// ways. A met policy delivers over TLS and says which policy applied in
// delivery-status tls-policy; a violated one (MX not in the policy, a bad
// certificate, no STARTTLS, a TLSA mismatch) is a temporary failure with
// the reason, and nothing reaches the MX, in clear or otherwise. MTA-STS
// testing mode delivers and reports; DANE needs the AD bit and takes
// precedence over MTA-STS.
func TestDeliveryTLSPolicy(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	e := startEnv(t, envOptions{rootCAs: ca.Pool})
	ps := startPolicyServer(t, ca)
	policy := func(mode string, mx ...string) string {
		return "version: STSv1\r\nmode: " + mode + "\r\nmx: " + strings.Join(mx, "\r\nmx: ") + "\r\nmax_age: 86400\r\n"
	}

	type mxKind int
	const (
		valid   mxKind = iota // STARTTLS, certificate from the trusted CA for the MX name
		badName               // STARTTLS, certificate from the trusted CA for another name
		plain                 // no STARTTLS
	)
	tests := []struct {
		name     string
		mx       mxKind
		sts      string                           // policy body; "" none
		tlsa     func(mx *testutil.FakeMX) string // TLSA record data; nil none
		secure   bool                             // MX and TLSA answers carry the AD bit
		servfail bool                             // the TLSA lookup fails
		backup   bool                             // a second MX host, backup.<domain>, that nothing listens on
		// want: the policy shown, the refusal (temporary failure) or
		// the report of testing mode, and for deliveries verified.
		policy, refused, report string
		verified                bool
	}{
		{name: "sts enforce met", mx: valid, sts: policy("enforce", "mx.%s"), policy: "mta-sts enforce", verified: true},
		{name: "sts enforce wildcard", mx: valid, sts: policy("enforce", "backup.example.test", "*.%s"), policy: "mta-sts enforce", verified: true},
		{name: "sts enforce not listed", mx: valid, sts: policy("enforce", "other.%s"), policy: "mta-sts enforce",
			refused: "the MTA-STS policy of %s does not list MX host mx.%s"},
		{name: "sts enforce not listed, listed backup down", mx: valid, sts: policy("enforce", "backup.%s"), backup: true,
			policy: "mta-sts enforce", refused: "the MTA-STS policy of %s does not list MX host mx.%s"},
		{name: "sts enforce bad certificate", mx: badName, sts: policy("enforce", "mx.%s"), policy: "mta-sts enforce",
			refused: "the MTA-STS policy of %s requires a valid certificate but that of mx.%s could not be verified"},
		{name: "sts enforce no starttls", mx: plain, sts: policy("enforce", "mx.%s"), policy: "mta-sts enforce",
			refused: "TLS is required by the MTA-STS policy of %s but mx.%s does not offer STARTTLS"},
		{name: "sts testing bad certificate", mx: badName, sts: policy("testing", "mx.%s"), policy: "mta-sts testing",
			report: "the MTA-STS policy of %s requires a valid certificate but that of mx.%s could not be verified"},
		{name: "sts testing no starttls", mx: plain, sts: policy("testing", "mx.%s"), policy: "mta-sts testing",
			report: "TLS is required by the MTA-STS policy of %s but mx.%s does not offer STARTTLS"},
		{name: "sts none", mx: badName, sts: "version: STSv1\nmode: none\nmax_age: 60\n"},
		{name: "dane-ee met", mx: badName, secure: true, policy: "dane", verified: true,
			tlsa: func(mx *testutil.FakeMX) string { return "3 1 1 " + spkiSHA256(mx) }},
		{name: "dane-ta met", mx: valid, secure: true, policy: "dane", verified: true,
			tlsa: func(*testutil.FakeMX) string {
				s := sha256.Sum256(ca.Cert.Raw)
				return "2 0 1 " + hex.EncodeToString(s[:])
			}},
		{name: "dane-ta wrong name", mx: badName, secure: true, policy: "dane",
			tlsa: func(*testutil.FakeMX) string {
				s := sha256.Sum256(ca.Cert.Raw)
				return "2 0 1 " + hex.EncodeToString(s[:])
			},
			refused: "DANE: the certificate matches none of its 1 usable TLSA records of mx.%[2]s"},
		{name: "dane mismatch", mx: valid, secure: true, policy: "dane",
			tlsa:    func(*testutil.FakeMX) string { return "3 1 1 " + strings.Repeat("ab", 32) },
			refused: "DANE: the certificate matches none of its 1 usable TLSA records of mx.%[2]s"},
		{name: "dane no starttls", mx: plain, secure: true, policy: "dane",
			tlsa:    func(*testutil.FakeMX) string { return "3 1 1 " + strings.Repeat("ab", 32) },
			refused: "TLS is required by DANE but mx.%[2]s does not offer STARTTLS"},
		{name: "dane only pkix usages", mx: badName, secure: true, policy: "dane",
			tlsa: func(mx *testutil.FakeMX) string { return "1 1 1 " + spkiSHA256(mx) }},
		{name: "dane over sts", mx: valid, secure: true, sts: policy("enforce", "other.%s"), policy: "dane", verified: true,
			tlsa: func(mx *testutil.FakeMX) string { return "3 1 1 " + spkiSHA256(mx) }},
		{name: "dane tlsa lookup fails", mx: valid, secure: true, servfail: true, policy: "dane",
			refused: "DANE: the TLSA lookup for mx.%[2]s failed: dns TLSA _25._tcp.mx.%[2]s: SERVFAIL"},
		{name: "tlsa without ad", mx: valid, verified: true,
			tlsa: func(*testutil.FakeMX) string { return "3 1 1 " + strings.Repeat("ab", 32) }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			domain := fmt.Sprintf("tp%d.test", i)
			mx := testutil.StartFakeMX(t, testutil.MXOptions{TLS: tc.mx != plain, CA: ca, NoTLSNames: tc.mx == badName,
				Hostnames: []string{"mx." + domain}})
			e.addMX(domain, mx)
			if tc.backup {
				e.addMXHost(domain, 20, "backup."+domain, nil)
			}
			if tc.sts != "" {
				e.publishSTS(ps, domain, fmt.Sprintf("id%d", i), strings.ReplaceAll(tc.sts, "%s", domain))
			}
			if tc.tlsa != nil {
				e.DNS.Add(t, fmt.Sprintf("_25._tcp.mx.%s. 60 IN TLSA %s", domain, tc.tlsa(mx)))
			}
			if tc.servfail {
				e.DNS.SetRcode("_25._tcp.mx."+domain, mdns.RcodeServerFailure)
			}
			if tc.secure {
				e.DNS.SetSecure(domain, true)
				e.DNS.SetSecure("_25._tcp.mx."+domain, true)
			}
			rcpt := "rcpt@" + domain
			id := e.send(e.message(rcpt))
			e.waitOutcomes(id, 1)
			ds := e.rawStatus(t, id)
			if got, _ := ds["tls-policy"].(string); got != tc.policy {
				t.Fatalf("tls-policy = %q, want %q (delivery-status %v)", got, tc.policy, ds)
			}
			if tc.refused != "" {
				f := e.waitFailed(id, "temporary", "generic")
				want := fmt.Sprintf(tc.refused, domain, domain)
				if f.DeliveryStatus.Message != want || ds["tls-policy-report"] != want || f.DeliveryStatus.Code != 421 {
					t.Fatalf("refusal = %+v (report %v), want 421 %q", f.DeliveryStatus, ds["tls-policy-report"], want)
				}
				if n := len(mx.Messages()); n != 0 {
					t.Fatalf("the MX received %d messages despite the policy", n)
				}
				return
			}
			d := e.waitDelivered(id, 1)
			r := receivedFor(t, mx, rcpt)
			if r.TLS != (tc.mx != plain) || isTrue(d.DeliveryStatus.TLS) != r.TLS {
				t.Fatalf("received over TLS %v, event tls %v; want %v", r.TLS, isTrue(d.DeliveryStatus.TLS), tc.mx != plain)
			}
			if isTrue(d.DeliveryStatus.CertificateVerified) != tc.verified {
				t.Fatalf("certificate-verified = %v, want %v", isTrue(d.DeliveryStatus.CertificateVerified), tc.verified)
			}
			want := ""
			if tc.report != "" {
				want = fmt.Sprintf(tc.report, domain, domain)
			}
			if got, _ := ds["tls-policy-report"].(string); got != want {
				t.Fatalf("tls-policy-report = %q, want %q", got, want)
			}
		})
	}
}
