package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/api"
	"github.com/salvo-email/salvo/internal/testutil"
)

const (
	hookA = "https://a.example.com/hook"
	hookB = "https://b.example.com/hook"
	hookC = "http://127.0.0.1:9/hook"
	hookD = "https://d.example.com/hook"
)

// wantBody fails t unless r is status with exactly the JSON body want.
func wantBody(t *testing.T, r testutil.Response, status int, want string) {
	t.Helper()
	r.Want(t, status)
	var got, exp any
	r.Decode(t, &got)
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%s, want body %s", r, want)
	}
}

// TestWebhooksSDK: every webhook call mailgun-go v4.23.0 has, against both
// stores, with Mailgun's shapes and errors (docs/mailgun-contract.md §8.2).
func TestWebhooksSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		ctx := context.Background()
		ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg})
		createDomain(t, ta, "hooks.example.com")
		mg := mailgun.NewMailgun("hooks.example.com", ta.Key)
		mg.SetAPIBase(ta.URL + "/v3")

		if hooks, err := mg.ListWebhooks(ctx); err != nil || len(hooks) != 0 {
			t.Fatalf("ListWebhooks of a new domain = %v, %v", hooks, err)
		}
		if err := mg.CreateWebhook(ctx, "clicked", []string{hookA, hookB}); err != nil {
			t.Fatalf("CreateWebhook: %v", err)
		}
		if err := mg.CreateWebhook(ctx, "permanent_fail", []string{hookA, hookB, hookC}); err != nil {
			t.Fatalf("CreateWebhook with 3 URLs: %v", err)
		}
		if urls, err := mg.GetWebhook(ctx, "clicked"); err != nil || !reflect.DeepEqual(urls, []string{hookA, hookB}) {
			t.Fatalf("GetWebhook = %v, %v", urls, err)
		}
		want := map[string][]string{"clicked": {hookA, hookB}, "permanent_fail": {hookA, hookB, hookC}}
		if hooks, err := mg.ListWebhooks(ctx); err != nil || !reflect.DeepEqual(hooks, want) {
			t.Fatalf("ListWebhooks = %v, %v; want %v", hooks, err, want)
		}
		for _, c := range []struct {
			kind string
			urls []string
		}{{"clicked", []string{hookD}}, {"opened", []string{hookA, hookB, hookC, hookD}}, {"bounce", []string{hookA}},
			{"opened", []string{"ftp://x.example.com/"}}, {"opened", []string{"not a url"}}} {
			if err := mg.CreateWebhook(ctx, c.kind, c.urls); mailgun.GetStatusFromErr(err) != http.StatusBadRequest {
				t.Errorf("CreateWebhook(%s, %v): %v, want 400", c.kind, c.urls, err)
			}
		}
		if err := mg.UpdateWebhook(ctx, "clicked", []string{hookC}); err != nil {
			t.Fatalf("UpdateWebhook: %v", err)
		}
		if urls, err := mg.GetWebhook(ctx, "clicked"); err != nil || !reflect.DeepEqual(urls, []string{hookC}) {
			t.Fatalf("GetWebhook after UpdateWebhook = %v, %v", urls, err)
		}
		if err := mg.UpdateWebhook(ctx, "opened", []string{hookC}); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("UpdateWebhook of an unset kind: %v, want 404", err)
		}
		if err := mg.DeleteWebhook(ctx, "clicked"); err != nil {
			t.Fatalf("DeleteWebhook: %v", err)
		}
		if _, err := mg.GetWebhook(ctx, "clicked"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("GetWebhook after DeleteWebhook: %v, want 404", err)
		}
		if err := mg.DeleteWebhook(ctx, "clicked"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("DeleteWebhook twice: %v, want 404", err)
		}
		if hooks, err := mg.ListWebhooks(ctx); err != nil || !reflect.DeepEqual(hooks, map[string][]string{"permanent_fail": {hookA, hookB, hookC}}) {
			t.Fatalf("ListWebhooks at the end = %v, %v", hooks, err)
		}
		other := mailgun.NewMailgun("nowhere.example.com", ta.Key)
		other.SetAPIBase(ta.URL + "/v3")
		if _, err := other.ListWebhooks(ctx); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Errorf("ListWebhooks of an unknown domain: %v, want 404", err)
		}
	})
}

// TestWebhooksShapes: the exact bodies of docs/mailgun-contract.md §8.2, in urlencoded and
// multipart (mailgun.js) requests, and 400s that change nothing.
func TestWebhooksShapes(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	createDomain(t, ta, "hooks.example.com")
	const base = "/v3/domains/hooks.example.com/webhooks"
	call := func(method, path string, body testutil.Body) testutil.Response {
		return ta.Call(t, method, path, ta.Key, body)
	}
	wantBody(t, call(http.MethodGet, base, testutil.NoBody), 200, `{"webhooks":{}}`)
	wantBody(t, call(http.MethodPost, base, testutil.Multipart(url.Values{"id": {"delivered"}, "url": {hookA, hookB}})),
		200, `{"message":"Webhook has been created","webhook":{"urls":["`+hookA+`","`+hookB+`"]}}`)
	wantBody(t, call(http.MethodGet, base+"/delivered", testutil.NoBody), 200, `{"webhook":{"urls":["`+hookA+`","`+hookB+`"]}}`)
	wantBody(t, call(http.MethodPut, base+"/delivered", testutil.Form(url.Values{"url": {hookC}})),
		200, `{"message":"Webhook has been updated","webhook":{"urls":["`+hookC+`"]}}`)

	before := call(http.MethodGet, base, testutil.NoBody).Body
	for _, c := range []struct {
		method, path string
		body         url.Values
		status       int
		want         string
	}{
		{http.MethodPost, base, url.Values{"id": {"opened"}, "url": {"ftp://x.example.com/"}}, 400,
			`{"Reason":"ftp://x.example.com/ is not a valid url: invalid URL scheme"}`},
		{http.MethodPost, base, url.Values{"id": {"opened"}, "url": {"https:///x"}}, 400,
			`{"Reason":"https:///x is not a valid url: missing host"}`},
		{http.MethodPost, base, url.Values{"url": {hookA}}, 400, `{"message":"Missing parameter 'id'"}`},
		{http.MethodPost, base, url.Values{"id": {"opened"}}, 400, `{"message":"Missing parameter 'url'"}`},
		{http.MethodPut, base + "/opened", url.Values{"url": {hookA}}, 404, `{"Description":"Webhook not found"}`},
		{http.MethodGet, base + "/opened", nil, 404, `{"Description":"Webhook not found"}`},
		{http.MethodDelete, base + "/opened", nil, 404, `{"Description":"Webhook not found"}`},
		{http.MethodGet, "/v3/domains/nowhere.example.com/webhooks", nil, 404, `{"message":"Domain not found: nowhere.example.com"}`},
	} {
		body := testutil.NoBody
		if c.body != nil {
			body = testutil.Form(c.body)
		}
		wantBody(t, call(c.method, c.path, body), c.status, c.want)
	}
	r := call(http.MethodPost, base, testutil.Form(url.Values{"id": {"delivered"}, "url": {hookA}})).Want(t, 400)
	if !strings.Contains(r.Body, `"Reason"`) || !strings.Contains(r.Body, "already exists") {
		t.Errorf("POST of an existing kind: %s", r)
	}
	if after := call(http.MethodGet, base, testutil.NoBody).Body; after != before {
		t.Fatalf("refused requests changed the webhooks: %s, then %s", before, after)
	}
	wantBody(t, call(http.MethodDelete, base+"/delivered", testutil.NoBody), 200,
		`{"message":"Webhook has been deleted","webhook":{"urls":["`+hookC+`"]}}`)
}

// TestWebhooksV4: the URL-centric endpoints of docs/mailgun-contract.md §8.3.
func TestWebhooksV4(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	createDomain(t, ta, "hooks.example.com")
	const base = "/v4/domains/hooks.example.com/webhooks"
	call := func(method, path string, v url.Values) testutil.Response {
		body := testutil.NoBody
		if v != nil {
			body = testutil.Form(v)
		}
		return ta.Call(t, method, path, ta.Key, body)
	}
	wantBody(t, call(http.MethodPost, base, url.Values{"url": {hookA}, "event_types": {"clicked", "delivered"}}), 200,
		`{"webhooks":{"clicked":{"urls":["`+hookA+`"]},"delivered":{"urls":["`+hookA+`"]}}}`)
	wantBody(t, call(http.MethodPost, base, url.Values{"url": {hookB}, "event_types": {"clicked"}}), 200,
		`{"webhooks":{"clicked":{"urls":["`+hookA+`","`+hookB+`"]},"delivered":{"urls":["`+hookA+`"]}}}`)
	wantBody(t, call(http.MethodPost, base, url.Values{"url": {hookA}, "event_types": {"opened", "clicked"}}), 400,
		`{"Reason":"Webhook for event type 'clicked' with URL '`+hookA+`' already exists"}`)
	wantBody(t, call(http.MethodPut, base, url.Values{"url": {hookA}, "event_types": {"opened", "permanent_fail"}}), 200,
		`{"webhooks":{"clicked":{"urls":["`+hookB+`"]},"opened":{"urls":["`+hookA+`"]},"permanent_fail":{"urls":["`+hookA+`"]}}}`)
	wantBody(t, call(http.MethodPut, base, url.Values{"url": {hookD}, "event_types": {"opened"}}), 404,
		`{"Description":"Webhook not found"}`)
	call(http.MethodPost, base, url.Values{"url": {hookA}, "event_types": {"nope"}}).Want(t, 400)
	call(http.MethodPost, base, url.Values{"url": {"mailto:x@example.com"}, "event_types": {"opened"}}).Want(t, 400)
	wantBody(t, call(http.MethodDelete, base, nil), 400, `{"Reason":"Missing parameter 'url'","Field":"url"}`)
	wantBody(t, call(http.MethodGet, base, nil), 200,
		`{"webhooks":{"clicked":{"urls":["`+hookB+`"]},"opened":{"urls":["`+hookA+`"]},"permanent_fail":{"urls":["`+hookA+`"]}}}`)
	wantBody(t, call(http.MethodDelete, base+"?url="+url.QueryEscape(hookA+","+hookD), nil), 200,
		`{"webhooks":{"clicked":{"urls":["`+hookB+`"]}}}`)
	wantBody(t, call(http.MethodDelete, base+"?url="+url.QueryEscape(hookD), nil), 404, `{"Description":"Webhook not found"}`)
	// What v4 set, the v3 SDK calls read.
	mg := mailgun.NewMailgun("hooks.example.com", ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")
	if urls, err := mg.GetWebhook(context.Background(), "clicked"); err != nil || !reflect.DeepEqual(urls, []string{hookB}) {
		t.Fatalf("GetWebhook after v4 edits = %v, %v", urls, err)
	}
}

// prepareMatrixRoute readies a domain for the authorization matrix's call
// of a webhook route, so that the primary key's DELETE has something to
// delete: it creates the "clicked" webhook and returns the query the v4
// DELETE needs.
func prepareMatrixRoute(t *testing.T, ta *testutil.TestApp, rt api.RouteInfo, domain string) string {
	t.Helper()
	if !strings.Contains(rt.Pattern, "/webhooks") {
		return ""
	}
	ta.Call(t, http.MethodPost, "/v3/domains/"+domain+"/webhooks", ta.Key,
		testutil.Form(url.Values{"id": {"clicked"}, "url": {hookC}})).Want(t, http.StatusOK)
	if rt.Method == http.MethodDelete && strings.HasPrefix(rt.Pattern, "/v4/") {
		return "?url=" + url.QueryEscape(hookC)
	}
	return ""
}
