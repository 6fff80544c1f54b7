package tlspolicy

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// TLSA certificate usages (RFC 6698 §2.1.1, RFC 7218 names).
const (
	usagePKIXTA = 0
	usagePKIXEE = 1
	usageDANETA = 2
	usageDANEEE = 3
)

// usable reports whether a TLSA record can authenticate an SMTP server
// (RFC 7672 §3.1): DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1),
// matching type Full(0), SHA2-256(1) or SHA2-512(2). PKIX-TA(0) and
// PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1.3), as are unknown
// values.
func usable(r *mdns.TLSA) bool {
	return (r.Usage == usageDANETA || r.Usage == usageDANEEE) && r.Selector <= 1 && r.MatchingType <= 2
}

// Usable returns the usable records of a TLSA RRset.
func Usable(rrs []*mdns.TLSA) []*mdns.TLSA {
	var out []*mdns.TLSA
	for _, r := range rrs {
		if usable(r) {
			out = append(out, r)
		}
	}
	return out
}

// matches reports whether cert is what r names (RFC 6698 §2.1.2-2.1.3).
func matches(r *mdns.TLSA, cert *x509.Certificate) bool {
	data := cert.Raw
	if r.Selector == 1 {
		data = cert.RawSubjectPublicKeyInfo
	}
	switch r.MatchingType {
	case 1:
		s := sha256.Sum256(data)
		data = s[:]
	case 2:
		s := sha512.Sum512(data)
		data = s[:]
	}
	return strings.EqualFold(hex.EncodeToString(data), r.Certificate)
}

// VerifyDANE checks a server's chain against usable TLSA records (RFC
// 7672 §3.1-3.2): a DANE-EE(3) record matching the leaf authenticates it
// whatever its names and dates (RFC 7672 §3.1.1); a DANE-TA(2) record must match a
// certificate of the chain the server sent (servers must include the
// trust anchor, RFC 7672 §3.1.2) from which the leaf then chains, with the leaf
// valid now and for one of names (the MX host, then the destination
// domain, RFC 7672 §3.2.2).
func VerifyDANE(chain []*x509.Certificate, records []*mdns.TLSA, names []string, now time.Time) error {
	if len(chain) == 0 {
		return fmt.Errorf("no certificate presented")
	}
	leaf := chain[0]
	for _, r := range records {
		if r.Usage == usageDANEEE && usable(r) && matches(r, leaf) {
			return nil
		}
	}
	for _, r := range records {
		if r.Usage != usageDANETA || !usable(r) {
			continue
		}
		for i := 1; i < len(chain); i++ {
			if !matches(r, chain[i]) {
				continue
			}
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(chain[i])
			for _, c := range chain[1:i] {
				inter.AddCert(c)
			}
			for _, name := range names {
				if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter, CurrentTime: now}); err == nil {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("the certificate matches none of its %d usable TLSA records", len(records))
}
