package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestRegionIsolation: a domain created and used through the EU API leaves
// no trace in the US regional store, the US API answers 404 for it on every
// domain-scoped endpoint, and the global store holds only its name, its
// region and sending keys — never message data.
func TestRegionIsolation(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		mx := testutil.StartFakeMX(t, testutil.MXOptions{})
		us, eu := twoRegions(t, postgres, func(c *config.Config) { c.Smarthost = mx.Addr })
		const domain = "eu-data.example.com"
		const subject = "Residency check 7f3a"
		createDomain(t, eu, domain)
		sendingKey(t, eu, domain)
		var sent struct{ ID string }
		r := eu.Call(t, http.MethodPost, "/v3/"+domain+"/messages", eu.Key, testutil.Form(url.Values{
			"from": {"me@" + domain}, "to": {"someone@recipient.example"}, "subject": {subject}, "text": {"hello"},
		})).Want(t, http.StatusOK)
		if err := json.Unmarshal([]byte(r.Body), &sent); err != nil || sent.ID == "" {
			t.Fatalf("send: %s", r.Body)
		}
		msgID := strings.Trim(sent.ID, "<>")
		mx.WaitRecipients(t, 1, 30*time.Second)
		waitForEvent(t, eu, domain, "delivered")

		checkOtherRegionAnswers404(t, us, domain)

		usData, euData := us.DumpRegional(t), eu.DumpRegional(t)
		for _, needle := range []string{domain, msgID, subject} {
			if found := usData.Find(needle); len(found) > 0 {
				t.Errorf("the US regional store holds %q:\n%s", needle, strings.Join(found, "\n"))
			}
			if len(euData.Find(needle)) == 0 {
				t.Errorf("the EU regional store does not hold %q: the inspection would miss it", needle)
			}
		}
		global := us.DumpGlobal(t)
		for _, needle := range []string{msgID, subject, "someone@recipient.example"} {
			if found := global.Find(needle); len(found) > 0 {
				t.Errorf("the global store holds message data %q:\n%s", needle, strings.Join(found, "\n"))
			}
		}
		// The domain's name is global (domains, its keys) and so are its
		// monthly usage counters (docs/regions.md), which the janitor may
		// or may not have reported yet.
		for _, row := range global.Find(domain) {
			if table := row[:strings.Index(row, ":")]; table != "domains" && table != "api_keys" && table != "usage" {
				t.Errorf("the global store holds the domain name outside domains, keys and usage: %s", row)
			}
		}
	})
}

// checkOtherRegionAnswers404 calls every domain-scoped route of other's API
// about domain (which lives in another region) with the primary key and
// expects 404 Domain not found.
func checkOtherRegionAnswers404(t *testing.T, other *testutil.TestApp, domain string) {
	t.Helper()
	n := 0
	for _, rt := range other.API.Routes() {
		if !strings.Contains(rt.Pattern, "{domain}") && !strings.Contains(rt.Pattern, "{name}") {
			continue
		}
		n++
		path := strings.NewReplacer("{domain}", domain, "{name}", domain).Replace(rt.Pattern)
		// Any other variable gets a placeholder: the domain check comes first.
		path = regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "x")
		r := other.Call(t, rt.Method, path, other.Key, testutil.NoBody)
		if r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Domain not found") {
			t.Errorf("%s %s in the other region = %d %s, want 404 Domain not found", rt.Method, path, r.Status, r.Body)
		}
	}
	if n < 10 {
		t.Fatalf("only %d domain-scoped routes found", n)
	}
}

// TestKeysAreGlobal: a key created through one region's API works in the
// other; revoking it through either takes effect in both at once.
func TestKeysAreGlobal(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		us, eu := twoRegions(t, postgres)
		k := roleKey(t, us, "admin")
		// Both regions use the key first: were keys cached, the revoke
		// below would have to reach both caches at once.
		us.Call(t, http.MethodGet, "/v3/domains", k.Secret, testutil.NoBody).Want(t, http.StatusOK)
		eu.Call(t, http.MethodGet, "/v3/domains", k.Secret, testutil.NoBody).Want(t, http.StatusOK)
		eu.Call(t, http.MethodGet, "/v1/keys", k.Secret, testutil.NoBody).Want(t, http.StatusOK)
		eu.Call(t, http.MethodDelete, "/v1/keys/"+k.ID, eu.Key, testutil.NoBody).Want(t, http.StatusOK)
		for _, app := range []*testutil.TestApp{us, eu} {
			app.Call(t, http.MethodGet, "/v3/domains", k.Secret, testutil.NoBody).
				WantMessage(t, http.StatusUnauthorized, "Invalid private key")
		}
	})
}

// waitForEvent waits until domain has an event of type typ.
func waitForEvent(t *testing.T, ta *testutil.TestApp, domain, typ string) {
	t.Helper()
	waitForEvents(t, ta, domain, typ, 1)
}

// waitForEvents waits until domain has at least n events of type typ.
func waitForEvents(t *testing.T, ta *testutil.TestApp, domain, typ string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		r := ta.Call(t, http.MethodGet, "/v3/"+domain+"/events?limit=300&event="+typ, ta.Key, testutil.NoBody)
		if got = strings.Count(r.Body, `"event":"`+typ+`"`); r.Status == http.StatusOK && got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d %s events for %s, want %d", got, typ, domain, n)
}
