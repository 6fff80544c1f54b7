package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestRegionIsolationSMTP: mail sent through the EU SMTP relay and mail
// received by the EU MX and stored by an EU route leave no trace in the US
// regional store; the US relay does not know the EU credential; an EU
// route never runs on mail arriving at the US MX.
func TestRegionIsolationSMTP(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		mx := testutil.StartFakeMX(t, testutil.MXOptions{})
		hook := startHookServer(t)
		us, eu := twoRegions(t, postgres, func(c *config.Config) {
			c.Smarthost = mx.Addr
			c.SMTP.AuthFailureDelay = 10 * time.Millisecond
		})
		const domain, usDomain = "eu-smtp.example.com", "us-smtp.example.com"
		const subject = "Relay residency 91c2"
		createDomain(t, eu, domain)
		createDomain(t, us, usDomain)
		eu.Call(t, http.MethodPost, "/v3/domains/"+domain+"/credentials", eu.Key,
			testutil.Form(url.Values{"login": {"app"}, "password": {"relay-password-1"}})).Want(t, http.StatusOK)

		// The US relay does not know the EU credential.
		uc := dialSMTP(t, us.SubmissionAddr(), "starttls")
		if err := uc.Auth(sasl.NewPlainClient("", "app@"+domain, "relay-password-1")); err == nil {
			t.Error("the US relay accepted an EU credential")
		}
		// Through the EU relay.
		ec := dialSMTP(t, eu.SubmissionAddr(), "starttls")
		if err := ec.Auth(sasl.NewPlainClient("", "app@"+domain, "relay-password-1")); err != nil {
			t.Fatalf("EU relay AUTH: %v", err)
		}
		if _, err := submit(ec, "app@"+domain, []string{"rcpt@dest.example"}, rfcMessage("app@"+domain, "rcpt@dest.example", subject, "hi")); err != nil {
			t.Fatalf("EU relay submit: %v", err)
		}
		// Into the EU MX, kept by an EU route; another EU route forwards every
		// recipient it sees to the hook.
		eu.Call(t, http.MethodPost, "/v3/routes", eu.Key, testutil.Form(url.Values{
			"priority": {"0"}, "expression": {`match_recipient(".*@` + domain + `")`}, "action": {"store()"}})).Want(t, http.StatusOK)
		eu.Call(t, http.MethodPost, "/v3/routes", eu.Key, testutil.Form(url.Values{
			"priority": {"10"}, "expression": {`match_recipient(".*")`}, "action": {`forward("` + hook.URL + `/eu")`}})).Want(t, http.StatusOK)
		dc := dialSMTP(t, eu.MXAddr(), "starttls")
		if _, err := submit(dc, "sender@outside.example", []string{"inbox@" + domain}, rfcMessage("sender@outside.example", "inbox@"+domain, subject+" inbound", "hello")); err != nil {
			t.Fatalf("EU MX: %v", err)
		}
		// Mail for a US domain at the US MX: the EU routes must not see it.
		uc2 := dialSMTP(t, us.MXAddr(), "starttls")
		if _, err := submit(uc2, "sender@outside.example", []string{"inbox@" + usDomain}, rfcMessage("sender@outside.example", "inbox@"+usDomain, "US only", "hello")); err != nil {
			t.Fatalf("US MX: %v", err)
		}
		mx.WaitRecipients(t, 1, 30*time.Second)
		waitForEvent(t, eu, domain, "stored")
		waitForEvent(t, us, usDomain, "accepted")
		// The EU message reaches the hook (the route works); the US message,
		// processed by now, never does.
		posts := hook.waitPosts(t, "/eu", 1)
		time.Sleep(200 * time.Millisecond)
		if posts = hook.postsTo("/eu"); len(posts) != 1 || posts[0].Form.Get("recipient") != "inbox@"+domain {
			t.Errorf("the EU route forwarded %d message(s), want exactly the EU one", len(posts))
		}

		usData, euData := us.DumpRegional(t), eu.DumpRegional(t)
		for _, needle := range []string{domain, subject, "app@" + domain, "inbox@" + domain} {
			if found := usData.Find(needle); len(found) > 0 {
				t.Errorf("the US regional store holds %q:\n%s", needle, strings.Join(found, "\n"))
			}
			if len(euData.Find(needle)) == 0 {
				t.Errorf("the EU regional store does not hold %q", needle)
			}
		}
		if found := euData.Find(usDomain); len(found) > 0 {
			t.Errorf("the EU regional store holds the US domain:\n%s", strings.Join(found, "\n"))
		}
		var evs struct {
			Items []json.RawMessage `json:"items"`
		}
		r := eu.Call(t, http.MethodGet, "/v3/"+domain+"/events?event=accepted", eu.Key, testutil.NoBody).Want(t, http.StatusOK)
		if err := json.Unmarshal([]byte(r.Body), &evs); err != nil || len(evs.Items) < 2 {
			t.Errorf("EU accepted events (relay and inbound): %s", r.Body)
		}
	})
}
