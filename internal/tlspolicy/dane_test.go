package tlspolicy_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/tlspolicy"
)

func tlsa(usage, selector, mtype uint8, data []byte) *mdns.TLSA {
	switch mtype {
	case 1:
		s := sha256.Sum256(data)
		data = s[:]
	case 2:
		s := sha512.Sum512(data)
		data = s[:]
	}
	return &mdns.TLSA{Usage: usage, Selector: selector, MatchingType: mtype, Certificate: strings.ToUpper(hex.EncodeToString(data))}
}

// TestVerifyDANE: RFC 7672 §3.1 with every selector and matching type;
// DANE-EE ignores names and dates, DANE-TA needs the anchor in the chain
// and a leaf valid for the MX host or the domain; PKIX usages never
// authenticate.
func TestVerifyDANE(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	cert := ca.Issue(t, "mx.example.test")
	leaf := cert.Leaf
	chain := []*x509.Certificate{leaf, ca.Cert}
	other := testutil.NewCA(t)
	names := []string{"mx.example.test", "example.test"}
	now := time.Now()
	tests := []struct {
		name    string
		records []*mdns.TLSA
		chain   []*x509.Certificate
		names   []string
		now     time.Time
		ok      bool
	}{
		{name: "ee cert full", records: []*mdns.TLSA{tlsa(3, 0, 0, leaf.Raw)}, ok: true},
		{name: "ee cert sha256", records: []*mdns.TLSA{tlsa(3, 0, 1, leaf.Raw)}, ok: true},
		{name: "ee cert sha512", records: []*mdns.TLSA{tlsa(3, 0, 2, leaf.Raw)}, ok: true},
		{name: "ee spki full", records: []*mdns.TLSA{tlsa(3, 1, 0, leaf.RawSubjectPublicKeyInfo)}, ok: true},
		{name: "ee spki sha256", records: []*mdns.TLSA{tlsa(3, 1, 1, leaf.RawSubjectPublicKeyInfo)}, ok: true},
		{name: "ee spki sha512", records: []*mdns.TLSA{tlsa(3, 1, 2, leaf.RawSubjectPublicKeyInfo)}, ok: true},
		{name: "ee ignores names and dates", records: []*mdns.TLSA{tlsa(3, 1, 1, leaf.RawSubjectPublicKeyInfo)},
			names: []string{"elsewhere.test"}, now: now.Add(30 * 24 * time.Hour), ok: true},
		{name: "ee other key", records: []*mdns.TLSA{tlsa(3, 1, 1, other.Cert.RawSubjectPublicKeyInfo)}},
		{name: "ee one of several", records: []*mdns.TLSA{tlsa(3, 1, 1, other.Cert.RawSubjectPublicKeyInfo), tlsa(3, 1, 1, leaf.RawSubjectPublicKeyInfo)}, ok: true},
		{name: "ta cert sha256", records: []*mdns.TLSA{tlsa(2, 0, 1, ca.Cert.Raw)}, ok: true},
		{name: "ta spki sha512", records: []*mdns.TLSA{tlsa(2, 1, 2, ca.Cert.RawSubjectPublicKeyInfo)}, ok: true},
		{name: "ta domain name", records: []*mdns.TLSA{tlsa(2, 0, 1, ca.Cert.Raw)}, names: []string{"other.test", "mx.example.test"}, ok: true},
		{name: "ta wrong name", records: []*mdns.TLSA{tlsa(2, 0, 1, ca.Cert.Raw)}, names: []string{"other.test", "example.test"}},
		{name: "ta expired leaf", records: []*mdns.TLSA{tlsa(2, 0, 1, ca.Cert.Raw)}, now: now.Add(30 * 24 * time.Hour)},
		{name: "ta not in chain", records: []*mdns.TLSA{tlsa(2, 0, 1, ca.Cert.Raw)}, chain: []*x509.Certificate{leaf}},
		{name: "ta matching the leaf", records: []*mdns.TLSA{tlsa(2, 0, 1, leaf.Raw)}},
		{name: "ta other anchor", records: []*mdns.TLSA{tlsa(2, 0, 1, other.Cert.Raw)}},
		{name: "pkix-ee unusable", records: []*mdns.TLSA{tlsa(1, 0, 1, leaf.Raw)}},
		{name: "pkix-ta unusable", records: []*mdns.TLSA{tlsa(0, 0, 1, ca.Cert.Raw)}},
		{name: "unknown matching type", records: []*mdns.TLSA{tlsa(3, 0, 3, leaf.Raw)}},
		{name: "no certificate", records: []*mdns.TLSA{tlsa(3, 0, 1, leaf.Raw)}, chain: []*x509.Certificate{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, n, at := chain, names, now
			if tc.chain != nil {
				c = tc.chain
			}
			if tc.names != nil {
				n = tc.names
			}
			if !tc.now.IsZero() {
				at = tc.now
			}
			err := tlspolicy.VerifyDANE(c, tlspolicy.Usable(tc.records), n, at)
			if (err == nil) != tc.ok {
				t.Fatalf("VerifyDANE = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
