package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

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
