package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestOutboundDeny: webhook and route URLs cannot aim Salvo at addresses
// it must not reach (issue 18.5): a literal link-local (cloud metadata)
// address or the node's own listener is refused when saved (400), and a
// host name that resolves to the node's own listener is refused when
// dialled: the attempt fails before a connection is made.
func TestOutboundDeny(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ctx := context.Background()
	own := strings.TrimPrefix(e.app.URL, "http://")
	_, port, _ := strings.Cut(own, ":")
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "http://" + own + "/v3/domains"} {
		err := e.mg.CreateWebhook(ctx, "delivered", []string{u})
		if mailgun.GetStatusFromErr(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "not an allowed url") {
			t.Errorf("CreateWebhook(%s) = %v, want 400", u, err)
		}
		status, body := e.call(http.MethodPost, "/v3/routes", formBody(url.Values{"expression": {"catch_all()"},
			"action": {`forward("` + u + `")`}}))
		if status != http.StatusBadRequest {
			t.Errorf("route forward(%s) = %d %s, want 400", u, status, body)
		}
	}
	// By name: allowed when saved, refused when dialled.
	hook := "http://localhost:" + port + "/v3/" + testDomain + "/events"
	if err := e.mg.CreateWebhook(ctx, "delivered", []string{hook}); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", hook, err)
	}
	e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"ann@dest.example"}, "subject": {"x"}, "text": {"y"}})
	var st mgapi.WebhookAttempts
	waitFor(t, waitTimeout, func() bool {
		e.getJSON("/v3/domains/"+testDomain+"/webhooks/delivered/attempts", &st)
		return len(st.URLs) == 1 && st.URLs[0].Failures > 0
	}, func() string { return "a failed webhook attempt" })
	if got := st.URLs[0]; got.Posted != 0 || !strings.Contains(got.LastError, "not allowed") {
		t.Fatalf("attempts = %+v", got)
	}
}
