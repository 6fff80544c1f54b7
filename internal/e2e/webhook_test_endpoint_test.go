package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestWebhookTestEndpoint: PUT /v3/domains/{d}/webhooks/{kind}/test, as
// mailgun.js's webhooks.create(domain, id, url, true) sends it (multipart
// url), posts a sample event of that kind, signed with the account's key,
// to the URL given or the kind's first URL, and answers what the URL
// answered as {"code", "message"}; a URL the egress policy refuses is a
// 400 when literal and an unanswered test (code 0) when only its name
// leads to a refused address; unknown kinds and kinds without URLs 404.
func TestWebhookTestEndpoint(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ctx := context.Background()
	key, err := e.app.Keys.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rcv := testutil.StartWebhookReceiver(t, key)
	if err := e.mg.CreateWebhook(ctx, "delivered", []string{rcv.URL}); err != nil {
		t.Fatal(err)
	}
	path := func(kind string) string { return "/v3/domains/" + testDomain + "/webhooks/" + kind + "/test" }
	type answer struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	test := func(kind string, form url.Values, want int) answer {
		t.Helper()
		r := e.app.Call(t, http.MethodPut, path(kind), e.app.Key, testutil.Multipart(form)).Want(t, want)
		var a answer
		if want == http.StatusOK {
			r.Decode(t, &a)
			if a.Code == nil || a.Message == nil {
				t.Fatalf("%s: want code and message", r)
			}
		}
		return a
	}

	// No url: the kind's first URL gets a signed delivered event.
	if a := test("delivered", url.Values{}, http.StatusOK); *a.Code != http.StatusOK || *a.Message != "answered 200" {
		t.Errorf("test of delivered = %d %q, want the receiver's 200 and its body", *a.Code, *a.Message)
	}
	posts := rcv.WaitPosts(t, 1, waitTimeout)
	if p := posts[0]; !p.Verified || !p.Parsed || p.Event != "delivered" || p.Problem != "" {
		t.Fatalf("the receiver got %+v", p)
	}
	ev, err := mailgun.ParseEvent(posts[0].EventData)
	if d, ok := ev.(*events.Delivered); err != nil || !ok || d.Recipient != "alice@example.com" || d.DeliveryStatus.Code != 250 {
		t.Errorf("mailgun-go reads the sample as %#v, %v", ev, err)
	}

	// A url given: a permanent_fail sample, and the receiver's 503 with
	// its body comes back.
	rcv.Respond(func(*http.Request, testutil.WebhookPost, int) int { return http.StatusServiceUnavailable })
	a := test("permanent_fail", url.Values{"url": {rcv.URL + "?second"}}, http.StatusOK)
	if *a.Code != http.StatusServiceUnavailable || *a.Message != "answered 503" {
		t.Errorf("test answered code %d, want the receiver's 503", *a.Code)
	}
	posts = rcv.WaitPosts(t, 2, waitTimeout)
	var data struct{ Event, Severity, Reason string }
	if err := json.Unmarshal(posts[1].EventData, &data); err != nil || data.Event != "failed" || data.Severity != "permanent" || !posts[1].Verified {
		t.Errorf("permanent_fail sample = %s (%v), verified %v", posts[1].EventData, err, posts[1].Verified)
	}
	for _, kind := range []string{"accepted", "opened", "clicked", "unsubscribed", "complained", "temporary_fail"} {
		test(kind, url.Values{"url": {rcv.URL}}, http.StatusOK)
	}
	posts = rcv.WaitPosts(t, 8, waitTimeout)
	for _, p := range posts[2:] {
		if !p.Verified || !p.Parsed || p.Problem != "" {
			t.Errorf("sample %s: %+v", p.Event, p)
		}
	}

	// A URL that does not answer: code 0 and why.
	if a := test("delivered", url.Values{"url": {"http://127.0.0.1:1/hook"}}, http.StatusOK); *a.Code != 0 || !strings.Contains(*a.Message, "refused") {
		t.Errorf("unanswered test = %d %q", *a.Code, *a.Message)
	}
	// The egress policy: a literal link-local address is refused at once;
	// this node's own listener by name is refused when dialled.
	test("delivered", url.Values{"url": {"http://169.254.169.254/latest/meta-data/"}}, http.StatusBadRequest)
	_, port, _ := strings.Cut(strings.TrimPrefix(e.app.URL, "http://"), ":")
	if a := test("delivered", url.Values{"url": {"http://localhost:" + port + "/v3/domains"}}, http.StatusOK); *a.Code != 0 || !strings.Contains(*a.Message, "not allowed") {
		t.Errorf("test of the node's own listener = %d %q, want no answer: not allowed", *a.Code, *a.Message)
	}
	test("delivered", url.Values{"url": {"ftp://example.com/x"}}, http.StatusBadRequest)
	test("opened", url.Values{}, http.StatusNotFound) // no URL for opened
	test("bounce", url.Values{}, http.StatusNotFound) // no such kind
	if n := len(rcv.Posts()); n != 8 {
		t.Errorf("the receiver got %d posts, want 8", n)
	}
}
