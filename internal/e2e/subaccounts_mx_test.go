package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestSubaccountRoutesAndLists: the MX routes a message with the routes
// of its recipient domain's account only, and a send expands only the
// mailing lists of the sending domain's account (another account's list
// address is an address like any other).
func TestSubaccountRoutesAndLists(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, nil)
	const subDomain = "tenant.example.net"
	sub := createSubaccount(t, e.app, "tenant")
	call := func(method, path, onBehalf string, v url.Values) {
		t.Helper()
		e.app.Call(t, method, path, e.app.Key, behalf(testutil.Form(v), onBehalf)).Want(t, http.StatusOK)
	}
	call(http.MethodPost, "/v3/domains", sub, url.Values{"name": {subDomain}})
	// The subaccount's catch-all comes first and stops: were it the
	// parent's too, the parent's own route would never run.
	call(http.MethodPost, "/v3/routes", sub, url.Values{"priority": {"0"}, "expression": {"catch_all()"},
		"action": {`forward("sub-copy@elsewhere.test")`, "stop()"}})
	call(http.MethodPost, "/v3/routes", "", url.Values{"priority": {"1"}, "expression": {`match_recipient(".*@` + testDomain + `")`},
		"action": {`forward("parent-copy@elsewhere.test")`}})
	for _, rcpt := range []string{"team@" + testDomain, "info@" + subDomain} {
		if err := e.deliverMX("sam@elsewhere.org", []string{rcpt}, []byte(rfcMessage("sam@elsewhere.org", rcpt, "to "+rcpt, "body"))); err != nil {
			t.Fatalf("MX delivery to %s: %v", rcpt, err)
		}
	}

	// The subaccount's list, and a send to its address from each account.
	call(http.MethodPost, "/v3/lists", sub, url.Values{"address": {"club@" + subDomain}, "access_level": {"readonly"}})
	call(http.MethodPost, "/v3/lists/club@"+subDomain+"/members", sub, url.Values{"address": {"member@members.test"}})
	call(http.MethodPost, "/v3/"+testDomain+"/messages", "", url.Values{"from": {"x@" + testDomain}, "to": {"club@" + subDomain},
		"subject": {"parent to the list"}, "text": {"t"}})
	call(http.MethodPost, "/v3/"+subDomain+"/messages", sub, url.Values{"from": {"x@" + subDomain}, "to": {"club@" + subDomain},
		"subject": {"tenant to its list"}, "text": {"t"}})

	want := map[string][]string{
		"parent-copy@elsewhere.test": {"to team@" + testDomain},
		"sub-copy@elsewhere.test":    {"to info@" + subDomain},
		"club@" + subDomain:          {"parent to the list"},
		"member@members.test":        {"tenant to its list"},
	}
	waitFor(t, 20*time.Second, func() bool {
		got := byRecipient(e.mx.Messages())
		for rcpt, subjects := range want {
			if len(got[rcpt]) < len(subjects) {
				return false
			}
		}
		return true
	}, func() string { return "not every expected copy arrived" })
	time.Sleep(300 * time.Millisecond) // let a wrong copy arrive before looking
	for rcpt, ms := range byRecipient(e.mx.Messages()) {
		if len(ms) != len(want[rcpt]) {
			t.Errorf("%s got %d messages, want %d", rcpt, len(ms), len(want[rcpt]))
		}
		for i, m := range ms {
			if i < len(want[rcpt]) && header(m.Data, "Subject") != want[rcpt][i] {
				t.Errorf("%s got %q, want %q", rcpt, header(m.Data, "Subject"), want[rcpt][i])
			}
		}
	}
}

// TestDisabledSubaccountForwardsAndListPosts: a disabled subaccount's
// domain still receives mail at the MX (250, the routes run), but its
// route forwards to addresses and its mailing-list posts are not sent;
// each gets a permanent "failed" event naming the disabled subaccount.
// Enabled again, the same mail is forwarded and posted.
// It runs on SQLite and PostgreSQL.
func TestDisabledSubaccountForwardsAndListPosts(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			disabledSubaccountForwards(t, pg)
		})
	}
}

func disabledSubaccountForwards(t *testing.T, postgres bool) {
	e := startMXEnv(t, func(c *config.Config) {
		if postgres {
			c.GlobalDatabaseURL = testutil.PostgresMigrated(t, "global")
			c.DatabaseURL = testutil.PostgresMigrated(t, "regional")
		}
	})
	const subDomain = "off.example.net"
	sub := createSubaccount(t, e.app, "off")
	call := func(method, path string, v url.Values) {
		t.Helper()
		onBehalf := sub
		if strings.HasPrefix(path, "/v5/accounts/subaccounts/") {
			onBehalf = "" // the parent itself enables and disables
		}
		e.app.Call(t, method, path, e.app.Key, behalf(testutil.Form(v), onBehalf)).Want(t, http.StatusOK)
	}
	call(http.MethodPost, "/v3/domains", url.Values{"name": {subDomain}})
	call(http.MethodPost, "/v3/routes", url.Values{"priority": {"0"}, "expression": {`match_recipient("info@` + subDomain + `")`},
		"action": {`forward("fwd@elsewhere.test")`, "store()"}})
	call(http.MethodPost, "/v3/lists", url.Values{"address": {"club@" + subDomain}, "access_level": {"members"}})
	call(http.MethodPost, "/v3/lists/club@"+subDomain+"/members", url.Values{"address": {"member@members.test"}})
	call(http.MethodPost, "/v3/lists/club@"+subDomain+"/members", url.Values{"address": {"sam@elsewhere.org"}})
	call(http.MethodPost, "/v5/accounts/subaccounts/"+sub+"/disable", nil)

	deliver := func(subject string) {
		t.Helper()
		for _, rcpt := range []string{"info@" + subDomain, "club@" + subDomain} {
			if err := e.deliverMX("sam@elsewhere.org", []string{rcpt}, []byte(rfcMessage("sam@elsewhere.org", rcpt, subject, "body"))); err != nil {
				t.Fatalf("MX delivery to %s of a disabled subaccount: %v, want 250 (it still receives)", rcpt, err)
			}
		}
	}
	deliver("while disabled")

	type failed struct {
		Recipient      string `json:"recipient"`
		Severity       string `json:"severity"`
		DeliveryStatus struct {
			Code        int    `json:"code"`
			Message     string `json:"message"`
			Description string `json:"description"`
		} `json:"delivery-status"`
	}
	var got map[string]failed
	waitFor(t, 20*time.Second, func() bool {
		var page struct {
			Items []failed `json:"items"`
		}
		e.app.Call(t, http.MethodGet, "/v3/"+subDomain+"/events?event=failed", e.app.Key, behalf(testutil.NoBody, sub)).
			Want(t, http.StatusOK).Decode(t, &page)
		got = map[string]failed{}
		for _, it := range page.Items {
			got[it.Recipient] = it
		}
		return len(got) == 2
	}, func() string {
		return fmt.Sprintf("failed events %+v, want one for the forward and one for the list post", got)
	})
	for rcpt, what := range map[string]string{"info@" + subDomain: "forward to fwd@elsewhere.test not sent",
		"club@" + subDomain: "post to the mailing list club@" + subDomain + " not sent"} {
		ev := got[rcpt]
		if ev.Severity != "permanent" || ev.DeliveryStatus.Code != 550 || ev.DeliveryStatus.Description != what ||
			!strings.Contains(ev.DeliveryStatus.Message, "subaccount of domain "+subDomain+" is disabled") {
			t.Errorf("failed event for %s = %+v, want permanent 550 %q naming the disabled subaccount", rcpt, ev, what)
		}
	}
	// The store() action still ran: the subaccount keeps receiving.
	var stored struct {
		Items []map[string]any `json:"items"`
	}
	e.app.Call(t, http.MethodGet, "/v3/"+subDomain+"/events?event=stored", e.app.Key, behalf(testutil.NoBody, sub)).
		Want(t, http.StatusOK).Decode(t, &stored)
	if len(stored.Items) != 1 {
		t.Errorf("stored events of the disabled subaccount: %d, want 1", len(stored.Items))
	}
	time.Sleep(300 * time.Millisecond) // let a wrong copy arrive before looking
	if ms := e.mx.Messages(); len(ms) != 0 {
		t.Fatalf("the outbound MX got %d messages from a disabled subaccount, want none", len(ms))
	}

	// Enabled again, the same mail goes out.
	call(http.MethodPost, "/v5/accounts/subaccounts/"+sub+"/enable", nil)
	deliver("enabled again")
	waitFor(t, 20*time.Second, func() bool {
		got := byRecipient(e.mx.Messages())
		return len(got["fwd@elsewhere.test"]) == 1 && len(got["member@members.test"]) == 1
	}, func() string {
		return fmt.Sprintf("after enable got %v, want the forward and the list post", byRecipient(e.mx.Messages()))
	})
	for _, m := range e.mx.Messages() {
		if s := header(m.Data, "Subject"); s != "enabled again" {
			t.Errorf("outbound MX got %q, want only mail sent after enabling", s)
		}
	}
}

// TestSubaccountRoutePostSigningKey: a subaccount has no signing key of
// its own. Its route POSTs are signed with the installation's key, which
// the subaccount reads (own key or On-Behalf-Of) at
// GET /v5/accounts/http_signing_key and mailgun-go verifies them with.
func TestSubaccountRoutePostSigningKey(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, nil)
	const subDomain = "signed.example.net"
	sub := createSubaccount(t, e.app, "signed")
	e.app.Call(t, http.MethodPost, "/v3/domains", e.app.Key, behalf(testutil.Form(url.Values{"name": {subDomain}}), sub)).
		Want(t, http.StatusOK)
	e.app.Call(t, http.MethodPost, "/v3/routes", e.app.Key, behalf(testutil.Form(url.Values{"priority": {"0"},
		"expression": {`match_recipient("info@` + subDomain + `")`}, "action": {`forward("` + e.hook.URL + `/sub")`}}), sub)).
		Want(t, http.StatusOK)
	if err := e.deliverMX("sam@elsewhere.org", []string{"info@" + subDomain},
		[]byte(rfcMessage("sam@elsewhere.org", "info@"+subDomain, "signed", "body"))); err != nil {
		t.Fatalf("MX: %v", err)
	}
	post := e.hook.waitPosts(t, "/sub", 1)[0]

	subKey := subaccountKey(t, e.app, sub, "admin")
	var keys []string
	for _, c := range []struct{ key, behalf string }{{e.app.Key, ""}, {e.app.Key, sub}, {subKey, ""}} {
		var k struct {
			Key string `json:"http_signing_key"`
		}
		e.app.Call(t, http.MethodGet, "/v5/accounts/http_signing_key", c.key, behalf(testutil.NoBody, c.behalf)).
			Want(t, http.StatusOK).Decode(t, &k)
		keys = append(keys, k.Key)
	}
	if keys[0] == "" || keys[1] != keys[0] || keys[2] != keys[0] {
		t.Fatalf("signing keys read by the parent, on behalf and by the subaccount: %q, want one shared key", keys)
	}
	mg := mailgun.NewMailgun(subDomain, subKey)
	mg.SetWebhookSigningKey(keys[2])
	if ok, err := mg.VerifyWebhookRequest(post.request(t)); !ok || err != nil {
		t.Fatalf("the subaccount's route POST does not verify with the key it reads: %v, %v", ok, err)
	}
	mg.SetWebhookSigningKey(keys[2] + "x")
	if ok, _ := mg.VerifyWebhookRequest(post.request(t)); ok {
		t.Fatal("the route POST verifies with a wrong key too")
	}
}

// TestDisabledSubaccountResend: resending a stored message
// (POST /v3/domains/{d}/messages/{key}, an account-key route, not a
// sending one) is a send too: a disabled subaccount's is refused with
// 403, and allowed again once it is enabled.
func TestDisabledSubaccountResend(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	const subDomain = "resend.example.net"
	sub := createSubaccount(t, ta, "resend")
	ta.Call(t, http.MethodPost, "/v3/domains", ta.Key, behalf(testutil.Form(url.Values{"name": {subDomain}}), sub)).
		Want(t, http.StatusOK)
	ta.Call(t, http.MethodPost, "/v3/"+subDomain+"/messages", ta.Key, behalf(testutil.Form(url.Values{
		"from": {"x@" + subDomain}, "to": {"y@dest.example"}, "subject": {"s"}, "text": {"t"}, "o:testmode": {"yes"}}), sub)).
		Want(t, http.StatusOK)
	var page struct {
		Items []struct {
			Storage struct {
				Key string `json:"key"`
			} `json:"storage"`
		} `json:"items"`
	}
	ta.Call(t, http.MethodGet, "/v3/"+subDomain+"/events?event=accepted", ta.Key, behalf(testutil.NoBody, sub)).
		Want(t, http.StatusOK).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].Storage.Key == "" {
		t.Fatalf("accepted events %+v, want one with a storage key", page.Items)
	}
	resend := func() testutil.Response {
		return ta.Call(t, http.MethodPost, "/v3/domains/"+subDomain+"/messages/"+page.Items[0].Storage.Key, ta.Key,
			behalf(testutil.Form(url.Values{"to": {"z@dest.example"}}), sub))
	}
	ta.Call(t, http.MethodPost, "/v5/accounts/subaccounts/"+sub+"/disable", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	resend().WantMessage(t, http.StatusForbidden, "Forbidden: the subaccount is disabled and cannot send; its parent account can enable it again")
	ta.Call(t, http.MethodPost, "/v5/accounts/subaccounts/"+sub+"/enable", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	resend().Want(t, http.StatusOK)
}
