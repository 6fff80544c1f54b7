package tlspolicy_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/tlspolicy"
)

// world is a DNS server, a test CA, an HTTPS policy server on 127.0.0.1
// and a network that routes the policy hosts' published addresses to it.
type world struct {
	t     testing.TB
	dns   *testutil.DNSServer
	ca    *testutil.CA
	net   *testutil.MXNet
	clock *testutil.Clock
	srv   *httptest.Server

	mu      sync.Mutex
	serve   map[string]http.HandlerFunc // by host
	certs   map[string]tls.Certificate  // by SNI name
	fetches map[string]int
	nextIP  int
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, dns: testutil.StartDNS(t), ca: testutil.NewCA(t), net: testutil.NewMXNet(),
		clock: testutil.NewClock(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)),
		serve: map[string]http.HandlerFunc{}, certs: map[string]tls.Certificate{}, fetches: map[string]int{}}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		h := w.serve[r.Host]
		w.fetches[r.Host]++
		w.mu.Unlock()
		if h == nil || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(rw, r)
			return
		}
		h(rw, r)
	}))
	w.srv.TLS = &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		c, ok := w.certs[hello.ServerName]
		if !ok {
			return nil, fmt.Errorf("no certificate for %q", hello.ServerName)
		}
		return &c, nil
	}}
	w.srv.StartTLS()
	t.Cleanup(w.srv.Close)
	return w
}

// publish serves domain's policy host with h and a certificate for
// certName, and publishes its TXT record (txt; "" none) and address.
func (w *world) publish(domain, txt, certName string, h http.HandlerFunc) {
	host := "mta-sts." + domain
	w.mu.Lock()
	w.serve[host], w.certs[host] = h, w.ca.Issue(w.t, certName)
	w.nextIP++
	ip := fmt.Sprintf("192.0.2.%d", w.nextIP)
	w.mu.Unlock()
	w.dns.Add(w.t, fmt.Sprintf("%s. 60 IN A %s", host, ip))
	if txt != "" {
		w.dns.Add(w.t, fmt.Sprintf(`_mta-sts.%s. 60 IN TXT "%s"`, domain, txt))
	}
	w.net.RouteAddr(ip, w.srv.Listener.Addr().String())
}

func (w *world) setTXT(domain, txt string) {
	w.dns.Remove("_mta-sts." + domain)
	if txt != "" {
		w.dns.Add(w.t, fmt.Sprintf(`_mta-sts.%s. 60 IN TXT "%s"`, domain, txt))
	}
}

func (w *world) fetched(domain string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fetches["mta-sts."+domain]
}

func (w *world) checker(cfg tlspolicy.Config) *tlspolicy.Checker {
	return tlspolicy.New(cfg, tlspolicy.Deps{Resolver: dns.New(w.dns.Addr), RootCAs: w.ca.Pool, Dial: w.net.Dial, Now: w.clock.Now})
}

func body(s string) http.HandlerFunc {
	return func(rw http.ResponseWriter, _ *http.Request) { fmt.Fprint(rw, s) }
}

func policyBody(mode string, maxAge int, mx ...string) string {
	return fmt.Sprintf("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %d\r\n", mode, strings.Join(mx, "\r\nmx: "), maxAge)
}

// TestSTSCache: a policy is fetched once and cached; the TXT record is
// looked up again after Recheck and the policy refetched only when its id
// changed; a failed refetch or a vanished record keeps the cached copy
// until its max_age ends (RFC 8461 §5.1), and then there is none.
func TestSTSCache(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.checker(tlspolicy.Config{MTASTS: true, Recheck: time.Hour})
	ctx := context.Background()
	var mu sync.Mutex
	current := policyBody("enforce", 86400, "mx.a.test")
	w.publish("a.test", "v=STSv1; id=one;", "mta-sts.a.test", func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if current == "" {
			http.Error(rw, "gone", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(rw, current)
	})
	set := func(b string) { mu.Lock(); current = b; mu.Unlock() }
	check := func(step, mode string, fetches int) {
		t.Helper()
		p := c.STS(ctx, "a.test")
		got := "none"
		if p != nil {
			got = p.Mode
		}
		if got != mode || w.fetched("a.test") != fetches {
			t.Fatalf("%s: policy %s after %d fetches, want %s after %d", step, got, w.fetched("a.test"), mode, fetches)
		}
	}
	check("first", "enforce", 1)
	check("cached", "enforce", 1)
	w.setTXT("a.test", "v=STSv1; id=two;")
	set(policyBody("testing", 86400, "mx.a.test"))
	check("id changed, not rechecked yet", "enforce", 1)
	w.clock.Advance(time.Hour)
	check("id changed, rechecked", "testing", 2)
	w.clock.Advance(time.Hour)
	check("same id", "testing", 2)
	w.setTXT("a.test", "v=STSv1; id=three;")
	set("")
	w.clock.Advance(time.Hour)
	check("refetch fails: cached copy", "testing", 3)
	w.setTXT("a.test", "")
	w.clock.Advance(time.Hour)
	check("record gone: cached copy", "testing", 3)
	w.clock.Advance(24 * time.Hour)
	check("cached copy expired", "none", 3)
}

// TestSTSRetryAfterFailure: a failed fetch is tried again after a minute,
// not after a whole Recheck, so a passing failure does not leave a domain
// without its policy for an hour.
func TestSTSRetryAfterFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	up := false
	w.publish("late.test", "v=STSv1; id=1", "mta-sts.late.test", func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			http.Error(rw, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(rw, policyBody("enforce", 86400, "mx.late.test"))
	})
	c := w.checker(tlspolicy.Config{MTASTS: true, Recheck: time.Hour})
	ctx := context.Background()
	if p := c.STS(ctx, "late.test"); p != nil || w.fetched("late.test") != 1 {
		t.Fatalf("failed fetch: %+v after %d fetches", p, w.fetched("late.test"))
	}
	mu.Lock()
	up = true
	mu.Unlock()
	w.clock.Advance(30 * time.Second)
	if p := c.STS(ctx, "late.test"); p != nil || w.fetched("late.test") != 1 {
		t.Fatalf("retried within the minute: %+v after %d fetches", p, w.fetched("late.test"))
	}
	w.clock.Advance(30 * time.Second)
	if p := c.STS(ctx, "late.test"); p == nil || p.Mode != "enforce" || w.fetched("late.test") != 2 {
		t.Fatalf("after a minute: %+v after %d fetches, want the enforce policy from a second fetch", p, w.fetched("late.test"))
	}
}

// TestSTSFetchRules: RFC 8461 §3.3: the policy host's certificate must be
// valid, redirects are not followed, only a 200 counts, bodies are
// bounded; a domain without a valid record is not fetched at all. Each
// leaves the domain without a policy (fail open).
func TestSTSFetchRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.checker(tlspolicy.Config{MTASTS: true})
	good := policyBody("enforce", 86400, "mx.x.test")
	w.publish("ok.test", "v=STSv1; id=1", "mta-sts.ok.test", body(good))
	w.publish("badcert.test", "v=STSv1; id=1", "mta-sts.other.test", body(good))
	w.publish("redirect.test", "v=STSv1; id=1", "mta-sts.redirect.test", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "https://mta-sts.ok.test/.well-known/mta-sts.txt", http.StatusMovedPermanently)
	})
	w.publish("status.test", "v=STSv1; id=1", "mta-sts.status.test", func(rw http.ResponseWriter, _ *http.Request) {
		rw.WriteHeader(http.StatusAccepted)
		fmt.Fprint(rw, good)
	})
	w.publish("big.test", "v=STSv1; id=1", "mta-sts.big.test", body(good+strings.Repeat("x: y\r\n", 12000)))
	w.publish("garbage.test", "v=STSv1; id=1", "mta-sts.garbage.test", body("<html>hello</html>"))
	w.publish("norecord.test", "", "mta-sts.norecord.test", body(good))
	w.publish("twotxt.test", "v=STSv1; id=1", "mta-sts.twotxt.test", body(good))
	w.dns.Add(t, `_mta-sts.twotxt.test. 60 IN TXT "v=STSv1; id=2"`)
	w.publish("off.test", "v=STSv1; id=1", "mta-sts.off.test", body(good))
	for _, tc := range []struct {
		domain  string
		policy  bool
		fetched bool
	}{
		{"ok.test", true, true}, {"badcert.test", false, false}, {"redirect.test", false, true},
		{"status.test", false, true}, {"big.test", false, true}, {"garbage.test", false, true},
		{"norecord.test", false, false}, {"twotxt.test", false, false},
	} {
		p := c.STS(context.Background(), tc.domain)
		if (p != nil) != tc.policy || (w.fetched(tc.domain) > 0) != tc.fetched {
			t.Errorf("%s: policy %+v after %d fetches; want policy %v, fetched %v", tc.domain, p, w.fetched(tc.domain), tc.policy, tc.fetched)
		}
	}
	if n := w.fetched("ok.test"); n != 1 {
		t.Errorf("the redirect was followed: ok.test fetched %d times, want 1", n)
	}
	if p := w.checker(tlspolicy.Config{}).STS(context.Background(), "off.test"); p != nil || w.fetched("off.test") != 0 {
		t.Errorf("MTA-STS off: policy %+v, %d fetches", p, w.fetched("off.test"))
	}
}

// TestSTSConcurrent: deliveries asking at once for a domain's policy
// share one fetch.
func TestSTSConcurrent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	release := make(chan struct{})
	w.publish("busy.test", "v=STSv1; id=1", "mta-sts.busy.test", func(rw http.ResponseWriter, _ *http.Request) {
		<-release
		fmt.Fprint(rw, policyBody("enforce", 600, "mx.busy.test"))
	})
	c := w.checker(tlspolicy.Config{MTASTS: true})
	var wg sync.WaitGroup
	modes := make([]string, 20)
	for i := range modes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := c.STS(context.Background(), "busy.test"); p != nil {
				modes[i] = p.Mode
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // let them all ask
	close(release)
	wg.Wait()
	for i, m := range modes {
		if m != "enforce" {
			t.Fatalf("caller %d got mode %q", i, m)
		}
	}
	if n := w.fetched("busy.test"); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

// TestSTSRefreshAll: the background refresh picks up a new policy (id
// change) without a delivery asking, and forgets stale domains.
func TestSTSRefreshAll(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	mode := "testing"
	w.publish("bg.test", "v=STSv1; id=1", "mta-sts.bg.test", func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(rw, policyBody(mode, 86400, "mx.bg.test"))
	})
	c := w.checker(tlspolicy.Config{MTASTS: true, Recheck: time.Hour})
	ctx := context.Background()
	if p := c.STS(ctx, "bg.test"); p == nil || p.Mode != "testing" {
		t.Fatalf("first policy %+v", p)
	}
	mu.Lock()
	mode = "enforce"
	mu.Unlock()
	w.setTXT("bg.test", "v=STSv1; id=2")
	c.RefreshAll(ctx) // not due yet
	if n := w.fetched("bg.test"); n != 1 {
		t.Fatalf("refreshed before Recheck: %d fetches", n)
	}
	w.clock.Advance(time.Hour)
	c.RefreshAll(ctx)
	if n := w.fetched("bg.test"); n != 2 {
		t.Fatalf("after Recheck: %d fetches, want 2", n)
	}
	if p := c.STS(ctx, "bg.test"); p == nil || p.Mode != "enforce" || p.ID != "2" || w.fetched("bg.test") != 2 {
		t.Fatalf("after refresh: %+v (%d fetches), want the enforce policy id 2 from the cache", p, w.fetched("bg.test"))
	}
}

// TestForHost: DANE applies only with the AD bit on both the MX and the
// TLSA answers, and then takes precedence over MTA-STS; a failing TLSA
// lookup of a secure host refuses it; MTA-STS refuses unlisted hosts in
// enforce mode and reports them in testing mode.
func TestForHost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.dns.Add(t,
		"_25._tcp.mx.signed.test. 60 IN TLSA 3 1 1 "+strings.Repeat("ab", 32),
		"_25._tcp.mx.pkix.test. 60 IN TLSA 1 1 1 "+strings.Repeat("ab", 32),
		"_25._tcp.mx.unsigned.test. 60 IN TLSA 3 1 1 "+strings.Repeat("ab", 32))
	w.dns.SetSecure("_25._tcp.mx.signed.test", true)
	w.dns.SetSecure("_25._tcp.mx.pkix.test", true)
	w.dns.SetRcode("_25._tcp.mx.broken.test", mdns.RcodeServerFailure)
	c := w.checker(tlspolicy.Config{MTASTS: true, DANE: true})
	enforce := &tlspolicy.Policy{Mode: "enforce", MX: []string{"mx.listed.test"}}
	testingMode := &tlspolicy.Policy{Mode: "testing", MX: []string{"mx.listed.test"}}
	for _, tc := range []struct {
		name     string
		sts      *tlspolicy.Policy
		secureMX bool
		host     string
		policy   string
		tlsa     int
		refused  bool
		enforce  bool
	}{
		{"dane", nil, true, "mx.signed.test", "dane", 1, false, true},
		{"dane over sts", enforce, true, "mx.signed.test", "dane", 1, false, true},
		{"dane insecure mx", nil, false, "mx.signed.test", "", 0, false, false},
		{"dane only pkix records", nil, true, "mx.pkix.test", "dane", 0, false, true},
		{"tlsa without ad", nil, true, "mx.unsigned.test", "", 0, false, false},
		{"tlsa servfail", nil, true, "mx.broken.test", "dane", 0, true, true},
		{"tlsa servfail insecure mx", nil, false, "mx.broken.test", "", 0, false, false},
		{"no tlsa", enforce, true, "mx.listed.test", "mta-sts enforce", 0, false, true},
		{"sts unlisted", enforce, false, "mx.other.test", "mta-sts enforce", 0, true, true},
		{"sts testing unlisted", testingMode, false, "mx.other.test", "mta-sts testing", 0, true, false},
		{"sts none", &tlspolicy.Policy{Mode: "none"}, false, "mx.other.test", "", 0, false, false},
	} {
		r := c.ForHost(context.Background(), "d.test", tc.sts, tc.secureMX, tc.host)
		if r.Policy != tc.policy || len(r.TLSA) != tc.tlsa || (r.Refused != nil) != tc.refused || r.Enforce != tc.enforce {
			t.Errorf("%s: %+v (refused %v), want policy %q, %d TLSA, refused %v, enforce %v", tc.name, r, r.Refused, tc.policy, tc.tlsa, tc.refused, tc.enforce)
		}
	}
	if r := w.checker(tlspolicy.Config{MTASTS: true}).ForHost(context.Background(), "d.test", nil, true, "mx.signed.test"); r.Policy != "" {
		t.Errorf("DANE off: %+v", r)
	}
}

// TestLookupMXSecure: the MX answer's AD bit reaches DANE only through a
// resolver that reports it and with DANE on.
func TestLookupMXSecure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.dns.Add(t, "signed.test. 60 IN MX 10 mx.signed.test.", "plain.test. 60 IN MX 10 mx.plain.test.")
	w.dns.SetSecure("signed.test", true)
	c := w.checker(tlspolicy.Config{DANE: true})
	for domain, want := range map[string]bool{"signed.test": true, "plain.test": false} {
		mx, secure, err := c.LookupMX(context.Background(), domain)
		if err != nil || len(mx) != 1 || secure != want {
			t.Errorf("%s: %v secure %v err %v, want secure %v", domain, mx, secure, err, want)
		}
	}
	if _, secure, _ := w.checker(tlspolicy.Config{}).LookupMX(context.Background(), "signed.test"); secure {
		t.Errorf("DANE off: MX reported secure")
	}
}
