package tlspolicy_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/tlspolicy"
)

// BenchmarkSTSCached is what MTA-STS costs a delivery attempt once the
// domain's policy is cached: the lookup the engine makes per chunk.
func BenchmarkSTSCached(b *testing.B) {
	w := newWorld(b)
	w.publish("bench.test", "v=STSv1; id=1", "mta-sts.bench.test", body(policyBody("enforce", 86400, "*.bench.test")))
	c := w.checker(tlspolicy.Config{MTASTS: true})
	ctx := context.Background()
	if c.STS(ctx, "bench.test") == nil {
		b.Fatal("no policy")
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if p := c.STS(ctx, "bench.test"); p == nil || !p.Matches("mx.bench.test") {
				b.Fatal("policy lost")
			}
		}
	})
}

// BenchmarkVerifyDANE is the certificate check DANE adds to a STARTTLS
// handshake: a DANE-EE SHA-256 match, and a DANE-TA chain verification.
func BenchmarkVerifyDANE(b *testing.B) {
	ca := testutil.NewCA(b)
	leaf := ca.Issue(b, "mx.bench.test").Leaf
	chain := []*x509.Certificate{leaf, ca.Cert}
	names := []string{"mx.bench.test", "bench.test"}
	for _, bc := range []struct {
		name string
		rec  *mdns.TLSA
	}{
		{"dane-ee", tlsa(3, 1, 1, leaf.RawSubjectPublicKeyInfo)},
		{"dane-ta", tlsa(2, 0, 1, ca.Cert.Raw)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			recs := []*mdns.TLSA{bc.rec}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if err := tlspolicy.VerifyDANE(chain, recs, names, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
