package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/store"
)

// TestTrackingSettingsThroughSDK drives the domain tracking settings
// (docs/mailgun-contract.md §9) with mailgun-go v4.23.0 on both stores: defaults off with
// Mailgun's footers, "active" sent as yes/no/true/htmlonly and always read
// back as a JSON boolean, htmlonly and place_at_the_top kept apart.
func TestTrackingSettingsThroughSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		ctx := context.Background()
		got, err := e.mg.GetDomainTracking(ctx, testDomain)
		if err != nil {
			t.Fatalf("GetDomainTracking: %v", err)
		}
		if got.Click.Active || got.Open.Active || got.Unsubscribe.Active ||
			got.Unsubscribe.HTMLFooter != store.DefaultHTMLFooter || got.Unsubscribe.TextFooter != store.DefaultTextFooter {
			t.Fatalf("new domain tracking = %+v, want all off with Mailgun's footers", got)
		}

		if err := e.mg.UpdateClickTracking(ctx, testDomain, "htmlonly"); err != nil {
			t.Fatalf("UpdateClickTracking htmlonly: %v", err)
		}
		if err := e.mg.UpdateOpenTracking(ctx, testDomain, "yes"); err != nil {
			t.Fatalf("UpdateOpenTracking: %v", err)
		}
		if err := e.mg.UpdateUnsubscribeTracking(ctx, testDomain, "true", "<p>bye <a href=\"%unsubscribe_url%\">here</a></p>", ""); err != nil {
			t.Fatalf("UpdateUnsubscribeTracking: %v", err)
		}
		got, err = e.mg.GetDomainTracking(ctx, testDomain)
		if err != nil {
			t.Fatalf("GetDomainTracking: %v", err)
		}
		if !got.Click.Active || !got.Open.Active || !got.Unsubscribe.Active ||
			got.Unsubscribe.HTMLFooter != "<p>bye <a href=\"%unsubscribe_url%\">here</a></p>" ||
			got.Unsubscribe.TextFooter != store.DefaultTextFooter {
			t.Fatalf("tracking after updates = %+v", got)
		}
		d, err := e.app.Regional.Domain(ctx, testDomain)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Tracking.ClickHTMLOnly || d.Tracking.OpenTop {
			t.Fatalf("stored tracking = %+v, want htmlonly clicks, pixel at the bottom", d.Tracking)
		}

		// The raw JSON: booleans, the web scheme, place_at_the_top.
		var raw map[string]map[string]json.RawMessage
		e.getJSON("/v3/domains/"+testDomain+"/tracking", &raw)
		if string(raw["tracking"]["click"]) != `{"active":true,"htmlonly":true}` ||
			string(raw["tracking"]["open"]) != `{"active":true,"place_at_the_top":false}` ||
			string(raw["tracking"]["web_scheme"]) != `"http"` {
			t.Fatalf("GET tracking = %s", raw["tracking"])
		}
		status, body := e.call(http.MethodPut, "/v3/domains/"+testDomain+"/tracking/open",
			formBody(url.Values{"active": {"no"}, "place_at_the_top": {"yes"}}))
		if status != http.StatusOK || string(body) != `{"message":"Domain tracking settings have been updated","open":{"active":false,"place_at_the_top":true}}`+"\n" {
			t.Fatalf("PUT open = %d %s", status, body)
		}

		if err := e.mg.UpdateClickTracking(ctx, testDomain, "no"); err != nil {
			t.Fatalf("UpdateClickTracking no: %v", err)
		}
		if got, err = e.mg.GetDomainTracking(ctx, testDomain); err != nil || got.Click.Active || got.Open.Active {
			t.Fatalf("after turning off: %+v, %v", got, err)
		}

		// Bad input: Mailgun-style 400s; unknown domain 404.
		for _, tc := range []struct {
			path, active string
		}{{"click", "maybe"}, {"open", "htmlonly"}, {"unsubscribe", "sometimes"}} {
			status, body := e.call(http.MethodPut, "/v3/domains/"+testDomain+"/tracking/"+tc.path,
				formBody(url.Values{"active": {tc.active}}))
			if status != http.StatusBadRequest || !json.Valid(body) {
				t.Errorf("PUT %s active=%s = %d %s, want 400 JSON", tc.path, tc.active, status, body)
			}
		}
		if _, err := e.mg.GetDomainTracking(ctx, "nope.example.com"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("GetDomainTracking of an unknown domain: %v, want 404", err)
		}
	})
}
