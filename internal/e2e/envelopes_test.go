package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestSendingQueuesAndEnvelopes: GET /v3/domains/{d}/sending_queues in
// Mailgun's shape, and DELETE /v3/{d}/envelopes dropping a domain's
// scheduled copies (batch sends, several recipients), each with a
// permanent failed event, leaving another domain's mail alone (SQLite and
// PostgreSQL).
func TestSendingQueuesAndEnvelopes(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg})
			const a, b = "drop-a.example.com", "drop-b.example.com"
			createDomain(t, ta, a)
			createDomain(t, ta, b)
			later := mgapi.FormatDate(time.Now().Add(2 * time.Hour))
			send := func(domain string, to ...string) {
				ta.Call(t, http.MethodPost, "/v3/"+domain+"/messages", ta.Key, testutil.Form(url.Values{
					"from": {"s@" + domain}, "to": to, "subject": {"later"}, "text": {"x"}, "o:deliverytime": {later},
					"v:order": {"42"}})).Want(t, http.StatusOK)
			}
			for i := range 3 {
				send(a, fmt.Sprintf("x%d@dest.example", i), fmt.Sprintf("y%d@dest.example", i))
			}
			send(b, "z@dest.example")

			r := ta.Call(t, http.MethodGet, "/v3/domains/"+a+"/sending_queues", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
			if got := strings.TrimSpace(r.Body); got != `{"regular":{"is_disabled":false,"disabled":{"until":"","reason":""}},"scheduled":{"is_disabled":false,"disabled":{"until":"","reason":""}}}` {
				t.Errorf("sending_queues = %s", got)
			}
			ta.Call(t, http.MethodGet, "/v3/domains/nowhere.example/sending_queues", ta.Key, testutil.NoBody).
				WantMessage(t, http.StatusNotFound, "Domain not found")

			r = ta.Call(t, http.MethodDelete, "/v3/"+a+"/envelopes", ta.Key, testutil.NoBody)
			r.WantMessage(t, http.StatusOK, "done")
			if n := r.Header.Get("X-Salvo-Dropped"); n != "6" {
				t.Fatalf("dropped %s copies, want 6", n)
			}
			var page struct {
				Items []struct {
					Event          string         `json:"event"`
					Severity       string         `json:"severity"`
					Reason         string         `json:"reason"`
					Recipient      string         `json:"recipient"`
					UserVariables  map[string]any `json:"user-variables"`
					DeliveryStatus struct {
						Message string `json:"message"`
					} `json:"delivery-status"`
				} `json:"items"`
			}
			ta.Call(t, http.MethodGet, "/v3/"+a+"/events?event=failed", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
			if len(page.Items) != 6 {
				t.Fatalf("%d failed events, want 6", len(page.Items))
			}
			for _, e := range page.Items {
				if e.Severity != "permanent" || e.Reason != "generic" || !strings.HasPrefix(e.DeliveryStatus.Message, "Dropped:") ||
					e.UserVariables["order"] != "42" || !strings.HasSuffix(e.Recipient, "@dest.example") {
					t.Errorf("failed event %+v", e)
				}
			}
			// Nothing is left of a; b's copy was not touched; no bounce was recorded.
			if n := ta.Call(t, http.MethodDelete, "/v3/"+a+"/envelopes", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Header.Get("X-Salvo-Dropped"); n != "0" {
				t.Errorf("second drop of %s took %s copies, want 0", a, n)
			}
			if n := ta.Call(t, http.MethodDelete, "/v3/"+b+"/envelopes", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Header.Get("X-Salvo-Dropped"); n != "1" {
				t.Errorf("drop of %s took %s copies, want 1 (its own)", b, n)
			}
			ta.Call(t, http.MethodGet, "/v3/"+a+"/bounces/x0@dest.example", ta.Key, testutil.NoBody).Want(t, http.StatusNotFound)
			ta.Call(t, http.MethodDelete, "/v3/nowhere.example/envelopes", ta.Key, testutil.NoBody).
				WantMessage(t, http.StatusNotFound, "Domain not found: nowhere.example")
		})
	}
}
