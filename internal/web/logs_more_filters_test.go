package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"
)

// TestLogsMoreFilters finds events by subject (a word of it), sender,
// Message-ID (with or without its angle brackets) and severity, through
// the same filters as the Events API, and keeps them in the form.
func TestLogsMoreFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	invoice := f.send(t, f.sendingKey, mailgun.NewMessage("Billing <billing@"+testDomain+">", "Your invoice 42", "hi", "ann@example.org"))
	f.send(t, f.sendingKey, mailgun.NewMessage("News <news@"+testDomain+">", "Weekly news", "hi", "bob@example.org"))
	c := f.client(t)
	c.login(testEmail, testPassword)
	only := func(what string, q url.Values, subject string) {
		t.Helper()
		q.Set("domain", testDomain)
		q.Set("event", "accepted")
		p := c.logs(q.Encode())
		if p.Status != 200 || len(p.Rows) != 1 || p.Rows[0].Subject != subject {
			t.Errorf("by %s: %s, want the accepted event of %q only", what, p, subject)
		}
	}
	only("subject", url.Values{"subject": {"invoice"}}, "Your invoice 42")
	only("sender", url.Values{"from": {"news@" + testDomain}}, "Weekly news")
	only("message-id", url.Values{"message-id": {invoice}}, "Your invoice 42")
	only("message-id in brackets", url.Values{"message-id": {"<" + invoice + ">"}}, "Your invoice 42")
	p := c.get("/dashboard/logs?" + url.Values{"domain": {testDomain}, "subject": {"invoice"}, "severity": {"permanent"}}.Encode())
	for _, want := range []string{`id="logs-subject" name="subject" type="text" autocomplete="off" value="invoice"`, `<option value="permanent" selected>`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the form does not keep %s", want)
		}
	}
	if got := c.logs(url.Values{"domain": {testDomain}, "severity": {"permanent"}, "event": {"accepted"}}.Encode()); len(got.Rows) != 0 {
		t.Errorf("accepted events with a severity: %s", got)
	}
}
