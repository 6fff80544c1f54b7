package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestWebhookForms: at most three URLs per event type, URLs checked like
// the API checks them, replace and delete of URLs that are not there
// refused; nothing refused changes the domain's webhooks.
func TestWebhookForms(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	base := "/dashboard/domains/" + testDomain + "/settings/webhooks"
	post := func(path string, v url.Values) string {
		v.Set("csrf", tok)
		return c.flashError(c.post(base+path, v))
	}
	for i := 1; i <= 3; i++ {
		if got := post("", url.Values{"kind": {"delivered"}, "url": {fmt.Sprintf("https://hooks.example.com/%d", i)}}); got != "" {
			t.Fatalf("add URL %d: %s", i, got)
		}
	}
	if p := c.get(base); !strings.Contains(p.Body, `<option value="delivered" disabled>`) {
		t.Error("a full event type can still be chosen")
	}
	hooks := func() string {
		set, err := d.Regional.Webhooks(context.Background(), testDomain)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(set)
	}
	before := hooks()
	refusals := []struct {
		path string
		form url.Values
		want string
	}{
		{"", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/4"}}, "event type 'delivered' already has 3 URLs, the most it takes"},
		{"", url.Values{"kind": {"opened"}, "url": {"ftp://hooks.example.com/"}}, "ftp://hooks.example.com/ is not a valid url: invalid URL scheme"},
		{"", url.Values{"kind": {"opened"}, "url": {"https://user:pw@hooks.example.com/"}}, "credentials in webhook URLs are not supported"},
		{"", url.Values{"kind": {"bounced"}, "url": {"https://hooks.example.com/"}}, "Choose an event type."},
		{"", url.Values{"kind": {"opened"}}, "Enter the URL to post events to."},
		{"/replace", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/1"}, "new_url": {"https://hooks.example.com/2"}},
			"https://hooks.example.com/2 is given twice"},
		{"/replace", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/9"}, "new_url": {"https://hooks.example.com/8"}},
			"Webhook not found"},
		{"/replace", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/1"}}, "Enter the new URL."},
		{"/delete", url.Values{"kind": {"opened"}, "url": {"https://hooks.example.com/1"}}, "Webhook not found"},
	}
	for _, r := range refusals {
		if got := post(r.path, r.form); !strings.Contains(got, r.want) {
			t.Errorf("POST %s %v: error %q, want %q", r.path, r.form, got, r.want)
		}
	}
	if after := hooks(); after != before {
		t.Fatalf("refused forms changed the webhooks: %s, then %s", before, after)
	}
	if got := post("/replace", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/2"}, "new_url": {"https://new.example.com/"}}); got != "" {
		t.Fatalf("replace: %s", got)
	}
	for _, u := range []string{"https://hooks.example.com/1", "https://new.example.com/"} {
		if got := post("/delete", url.Values{"kind": {"delivered"}, "url": {u}}); got != "" {
			t.Fatalf("delete %s: %s", u, got)
		}
	}
	if got := hooks(); got != "map[delivered:[https://hooks.example.com/3]]" {
		t.Errorf("after replace and deletes: %s", got)
	}
	if got := post("/delete", url.Values{"kind": {"delivered"}, "url": {"https://hooks.example.com/3"}}); got != "" || hooks() != "map[]" {
		t.Errorf("deleting the last URL: %q, webhooks %s", got, hooks())
	}
}
