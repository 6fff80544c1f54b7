package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestClientsNumbersForStrings sends JSON bodies typed as mailgun.js types
// them (issue 22, defect 3): a bounce's code as a number, created_at as
// an epoch number, one tag as a string, pagination as strings. Each is
// accepted and reads back through mailgun-go in Mailgun's exact shapes.
func TestClientsNumbersForStrings(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ctx := context.Background()
	post := func(t *testing.T, path, body string) {
		t.Helper()
		status, out := e.with(t).call(http.MethodPost, "/v3/"+testDomain+path, reqBody{"application/json", []byte(body)})
		if status != http.StatusOK {
			t.Fatalf("POST %s %s = %d %s", path, body, status, out)
		}
	}
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("bounces with a numeric code", func(t *testing.T) {
		post(t, "/bounces", `[{"address":"ann@example.org","code":550,"error":"no such user"},`+
			`{"address":"bob@example.org","code":"421","created_at":1772366400}]`)
		b, err := e.mg.GetBounce(ctx, "ann@example.org")
		if err != nil || b.Code != "550" || b.Error != "no such user" {
			t.Errorf("GetBounce(ann) = %+v, %v; want code \"550\"", b, err)
		}
		b, err = e.mg.GetBounce(ctx, "bob@example.org")
		if err != nil || b.Code != "421" || !time.Time(b.CreatedAt).Equal(created) {
			t.Errorf("GetBounce(bob) = %+v, %v; want code \"421\" created %v", b, err, created)
		}
	})
	t.Run("one bounce as a JSON object with a numeric code", func(t *testing.T) {
		post(t, "/bounces", `{"address":"cat@example.org","code":552}`)
		if b, err := e.mg.GetBounce(ctx, "cat@example.org"); err != nil || b.Code != "552" {
			t.Errorf("GetBounce(cat) = %+v, %v; want code \"552\"", b, err)
		}
	})
	t.Run("unsubscribes with one tag as a string", func(t *testing.T) {
		post(t, "/unsubscribes", `[{"address":"dan@example.org","tags":"newsletter","created_at":1772366400}]`)
		u, err := e.mg.GetUnsubscribe(ctx, "dan@example.org")
		if err != nil || strings.Join(u.Tags, ",") != "newsletter" || !time.Time(u.CreatedAt).Equal(created) {
			t.Errorf("GetUnsubscribe(dan) = %+v, %v; want tag newsletter created %v", u, err, created)
		}
	})
	t.Run("a code that is no SMTP code is still refused", func(t *testing.T) {
		status, out := e.with(t).call(http.MethodPost, "/v3/"+testDomain+"/bounces",
			reqBody{"application/json", []byte(`[{"address":"eve@example.org","code":55.5}]`)})
		if status != http.StatusBadRequest || !strings.Contains(string(out), "must be an SMTP reply code") {
			t.Errorf("code 55.5 = %d %s, want 400", status, out)
		}
		status, out = e.with(t).call(http.MethodPost, "/v3/"+testDomain+"/bounces",
			reqBody{"application/json", []byte(`[{"address":"eve@example.org","code":{"n":550}}]`)})
		if status != http.StatusBadRequest {
			t.Errorf("code as an object = %d %s, want 400", status, out)
		}
	})
	t.Run("metrics with string pagination and a string boolean", func(t *testing.T) {
		status, out := e.with(t).call(http.MethodPost, "/v1/analytics/metrics", reqBody{"application/json",
			[]byte(`{"duration":"1d","metrics":["delivered_count"],"include_aggregates":"true","pagination":{"skip":"0","limit":"5"}}`)})
		var r mgapi.MetricsResponse
		if status != http.StatusOK || json.Unmarshal(out, &r) != nil || r.Pagination.Limit != 5 || r.Aggregates == nil {
			t.Errorf("metrics = %d %s; want 200 with limit 5 and aggregates", status, out)
		}
	})
}
