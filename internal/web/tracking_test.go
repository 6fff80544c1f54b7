package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

const trackingPath = "/dashboard/domains/" + testDomain + "/settings/tracking"

// TestTrackingForm: the Tracking tab shows the domain's settings and
// saves them as the API's PUT …/tracking/* would (the API's GET then
// answers them); an empty footer keeps the current one; a form without a
// click choice is refused and changes nothing.
func TestTrackingForm(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	ctx := context.Background()
	p := c.get(trackingPath)
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `id="settings-tab-tracking" aria-current="page"`) ||
		!strings.Contains(p.Body, `id="click-off" name="click" type="radio" value="off" checked`) ||
		!strings.Contains(p.Body, `id="tracking-host">email.`+testDomain+`<`) {
		t.Fatalf("GET the tab (new domains track nothing): %d\n%s", p.StatusCode, p.Body)
	}
	save := func(v url.Values) string {
		v.Set("csrf", tok)
		return c.flashError(c.post(trackingPath, v))
	}
	footer := `<p><a href="%unsubscribe_url%">Leave the list</a></p>`
	if got := save(url.Values{"click": {"htmlonly"}, "open": {"on"}, "open_top": {"on"}, "unsubscribe": {"on"},
		"html_footer": {footer}, "text_footer": {""}}); got != "" {
		t.Fatalf("save: %s", got)
	}
	want := store.Tracking{Click: true, ClickHTMLOnly: true, Open: true, OpenTop: true, Unsubscribe: true,
		HTMLFooter: footer, TextFooter: store.DefaultTextFooter}
	dom, err := d.Domains.Get(ctx, testDomain)
	if err != nil || dom.Tracking != want {
		t.Fatalf("stored tracking %+v (%v), want %+v", dom.Tracking, err, want)
	}
	// The API answers what the tab saved.
	var api struct {
		Tracking struct {
			Click struct {
				Active   bool `json:"active"`
				HTMLOnly bool `json:"htmlonly"`
			} `json:"click"`
			Open struct {
				Active bool `json:"active"`
			} `json:"open"`
			Unsubscribe struct {
				Active     bool   `json:"active"`
				HTMLFooter string `json:"html_footer"`
			} `json:"unsubscribe"`
		} `json:"tracking"`
	}
	r := d.Call(t, http.MethodGet, "/v3/domains/"+testDomain+"/tracking", d.Key, testutil.NoBody).Want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(r.Body), &api); err != nil || !api.Tracking.Click.Active || !api.Tracking.Click.HTMLOnly ||
		!api.Tracking.Open.Active || !api.Tracking.Unsubscribe.Active || api.Tracking.Unsubscribe.HTMLFooter != footer {
		t.Fatalf("GET /v3/domains/{d}/tracking after the tab saved: %s", r.Body)
	}
	p = c.get(trackingPath)
	if !strings.Contains(p.Body, `value="htmlonly" checked`) || !strings.Contains(p.Body, `id="open" name="open" type="checkbox" checked`) ||
		!strings.Contains(p.Body, "Leave the list") {
		t.Fatalf("the tab does not show what was saved:\n%s", p.Body)
	}
	// Refused: no click choice. Nothing changes.
	if got := save(url.Values{"open": {"on"}}); !strings.Contains(got, "Choose how clicks are tracked") {
		t.Fatalf("a form without a click choice: %q", got)
	}
	// Turning everything off keeps the footers.
	if got := save(url.Values{"click": {"off"}}); got != "" {
		t.Fatalf("turn off: %s", got)
	}
	want = store.Tracking{HTMLFooter: footer, TextFooter: store.DefaultTextFooter}
	if dom, _ = d.Domains.Get(ctx, testDomain); dom.Tracking != want {
		t.Fatalf("after turning off: %+v, want %+v", dom.Tracking, want)
	}
}
