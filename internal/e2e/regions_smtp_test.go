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
// route or mailing list never runs on mail arriving at the US MX.
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
		// Mailing lists are region-bound too: an EU list whose address is
		// on the US domain must not fan out mail arriving at the US MX,
		// while the US list beside it (the control) does.
		newList := func(ta *testutil.TestApp, list, member string) {
			ta.Call(t, http.MethodPost, "/v3/lists", ta.Key, testutil.Form(url.Values{
				"address": {list}, "access_level": {"everyone"}})).Want(t, http.StatusOK)
			ta.Call(t, http.MethodPost, "/v3/lists/"+list+"/members", ta.Key, testutil.Form(url.Values{
				"address": {member}})).Want(t, http.StatusOK)
		}
		newList(eu, "crew@"+usDomain, "eu-member@dest.example")
		newList(us, "team@"+usDomain, "us-member@dest.example")

		// Mail for a US domain at the US MX: the EU routes and the EU list
		// must not see it.
		uc2 := dialSMTP(t, us.MXAddr(), "starttls")
		if _, err := submit(uc2, "sender@outside.example", []string{"inbox@" + usDomain}, rfcMessage("sender@outside.example", "inbox@"+usDomain, "US only", "hello")); err != nil {
			t.Fatalf("US MX: %v", err)
		}
		uc3 := dialSMTP(t, us.MXAddr(), "starttls")
		if _, err := submit(uc3, "sender@outside.example", []string{"crew@" + usDomain, "team@" + usDomain},
			rfcMessage("sender@outside.example", "crew@"+usDomain+", team@"+usDomain, "US lists", "hello")); err != nil {
			t.Fatalf("US MX, lists: %v", err)
		}
		// The relay message and the US list's one copy.
		got := mx.WaitRecipients(t, 2, 30*time.Second)
		time.Sleep(300 * time.Millisecond) // let a wrong fan-out arrive before looking
		var members []string
		for _, r := range mx.Messages() {
			for _, to := range r.To {
				if strings.HasSuffix(to, "-member@dest.example") {
					members = append(members, to)
				}
			}
		}
		if len(members) != 1 || members[0] != "us-member@dest.example" {
			t.Errorf("list copies went to %v (of %d messages), want only the US list's member", members, len(got))
		}
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
		var leaked []string
		for _, row := range euData.Find(usDomain) {
			if !strings.Contains(row, "crew@"+usDomain) { // the EU list's own address is EU data
				leaked = append(leaked, row)
			}
		}
		if len(leaked) > 0 {
			t.Errorf("the EU regional store holds the US domain's data:\n%s", strings.Join(leaked, "\n"))
		}
		for _, row := range usData.Find("crew@" + usDomain) {
			if strings.HasPrefix(row, "mailing_list") { // the message sent to it is US data; the list is not
				t.Errorf("the US regional store holds the EU list:\n%s", row)
			}
		}
		if len(euData.Find("eu-member@dest.example")) == 0 || len(usData.Find("eu-member@dest.example")) > 0 {
			t.Error("the EU list's member is not in the EU store alone")
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
