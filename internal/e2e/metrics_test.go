package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestMetricsAndHealth: /healthz is 200 once started; /metrics serves
// Prometheus text with Salvo's counters (requests by route pattern, never
// by raw path, so no address or key can appear in a label).
func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	ta.Call(t, http.MethodGet, "/healthz", "", testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodGet, "/v3/domains/secret-name.example.com", ta.Key, testutil.NoBody).Want(t, http.StatusNotFound)
	ta.Call(t, http.MethodGet, "/v3/domains", "wrong-key-0123456789", testutil.NoBody).Want(t, http.StatusUnauthorized)
	r := ta.Call(t, http.MethodGet, "/metrics", "", testutil.NoBody).Want(t, http.StatusOK)
	for _, want := range []string{
		`salvo_http_requests_total{code="404",route="GET /v3/domains/{name}"} 1`,
		`salvo_auth_failures_total 1`,
		`salvo_panics_total 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "secret-name") || strings.Contains(r.Body, ta.Key) {
		t.Error("/metrics exposes a path value or a key")
	}
}
