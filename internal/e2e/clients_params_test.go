package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/api"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestClientsEventsPagingWithRepeatedOptions walks the Events API as
// Ghost's analytics fetcher does (issue 22, defect 1): every page URL is
// requested with all the options of the first request again. Each page
// must answer 200, the walk must see every event once, and a bad value
// among the repeated options is still a 400.
func TestClientsEventsPagingWithRepeatedOptions(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	begin := e.clock.Now().Add(-time.Minute)
	for i := range 5 {
		e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"member" + strconv.Itoa(i) + "@dest.example"},
			"subject": {"newsletter"}, "text": {"x"}, "o:testmode": {"yes"}, "o:tag": {"bulk-email"}})
	}
	e.waitEvents("delivered", 5)
	end := e.clock.Now().Add(time.Minute)
	// Ghost's options (EmailAnalyticsProviderMailgun): an OR of event
	// types, its tag, begin/end in Unix seconds, ascending, the page size.
	opts := url.Values{
		"event": {"delivered OR opened OR failed OR unsubscribed OR complained"}, "tags": {"bulk-email"},
		"begin": {strconv.FormatInt(begin.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"ascending": {"yes"}, "limit": {"2"},
	}
	var first eventsPage
	e.getJSON("/v3/"+testDomain+"/events?"+opts.Encode(), &first)
	seen := map[string]bool{}
	page, pages := first, 1
	for ; len(page.Items) > 0 && pages < 20; pages++ {
		for _, ev := range page.Items {
			if ev.Event != "delivered" || seen[ev.ID] {
				t.Errorf("page %d: event %s (%s) unexpected or seen twice", pages, ev.ID, ev.Event)
			}
			seen[ev.ID] = true
		}
		next := page.Paging.Next + "?" + opts.Encode()
		status, body := e.call(http.MethodGet, next, reqBody{})
		if status != http.StatusOK {
			t.Fatalf("GET next page with the original options = %d %s", status, body)
		}
		page = eventsPage{}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 2 {
			t.Errorf("page %d has %d events, want at most limit=2", pages, len(page.Items))
		}
	}
	if len(seen) != 5 || pages != 4 {
		t.Errorf("walk saw %d delivered events in %d pages, want 5 in 4 (2+2+1, then the empty page)", len(seen), pages)
	}

	t.Run("bad values of repeated options are refused", func(t *testing.T) {
		e := e.with(t)
		for _, c := range []struct{ query, message string }{
			{"limit=0", "'limit' parameter must be between 1 and 300"},
			{"ascending=maybe", `'ascending' parameter must be yes, no, true or false, not "maybe"`},
			{"begin=yesterday", "yesterday is not an RFC-2822 compliant date"},
			{"event=delivered%20AND%20(", "invalid 'event' filter"},
		} {
			status, body := e.call(http.MethodGet, first.Paging.Next+"?"+c.query, reqBody{})
			var msg struct{ Message string }
			_ = json.Unmarshal(body, &msg)
			if status != http.StatusBadRequest || !strings.HasPrefix(msg.Message, c.message) {
				t.Errorf("next page ?%s = %d %s, want 400 starting %q", c.query, status, body, c.message)
			}
		}
	})
}

// TestClientsUnknownParametersAreIgnored checks the tolerance rule of
// issue 22: a parameter an endpoint does not know is accepted, ignored and
// named in X-Salvo-Ignored-Params, while a known parameter with a bad value
// is still refused with a 400.
func TestClientsUnknownParametersAreIgnored(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	ignored := func(t *testing.T, method, path string, b reqBody, want ...string) []byte {
		t.Helper()
		u := e.app.URL + path
		req, err := http.NewRequest(method, u, strings.NewReader(string(b.data)))
		if err != nil {
			t.Fatal(err)
		}
		if b.contentType != "" {
			req.Header.Set("Content-Type", b.contentType)
		}
		req.SetBasicAuth("api", e.app.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s = %d %s, want 200", method, path, resp.StatusCode, body)
		}
		sort.Strings(want)
		if got := resp.Header.Get(api.IgnoredParamsHeader); got != strings.Join(want, ", ") {
			t.Errorf("%s %s: %s = %q, want %q", method, path, api.IgnoredParamsHeader, got, strings.Join(want, ", "))
		}
		return body
	}

	t.Run("send with unknown o: and t: options and an unknown field", func(t *testing.T) {
		body := ignored(t, http.MethodPost, "/v3/"+testDomain+"/messages", formBody(url.Values{
			"from": {"sender@" + testDomain}, "to": {"a@dest.example"}, "subject": {"s"}, "text": {"x"},
			"o:testmode": {"yes"}, "o:bogus": {"yes"}, "t:future": {"1"}, "colour": {"red"}}),
			"colour", "o:bogus", "t:future")
		var r mgapi.SendResponse
		if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
			t.Errorf("send answered %s, want an id", body)
		}
	})
	t.Run("domain create with unknown JSON and query fields", func(t *testing.T) {
		ignored(t, http.MethodPost, "/v3/domains?colour=red", reqBody{"application/json", []byte(`{"name":"tolerant.example.com","shade":"blue"}`)},
			"colour", "shade")
		var d struct{ Domain mgapi.Domain }
		e.getJSON("/v3/domains/tolerant.example.com", &d)
		if d.Domain.Name != "tolerant.example.com" {
			t.Errorf("domain created with unknown fields reads back as %+v", d.Domain)
		}
	})
	t.Run("known parameters need no header", func(t *testing.T) {
		ignored(t, http.MethodGet, "/v3/"+testDomain+"/bounces?limit=10", reqBody{})
	})
	t.Run("unknown list filter", func(t *testing.T) {
		ignored(t, http.MethodGet, "/v1/keys?domain=x&kind=user", reqBody{}, "domain")
	})
	t.Run("events with an unknown option", func(t *testing.T) {
		ignored(t, http.MethodGet, "/v3/"+testDomain+"/events?limit=1&colour=red", reqBody{}, "colour")
	})
	t.Run("a known parameter with a bad value is still refused", func(t *testing.T) {
		e := e.with(t)
		status, body := e.call(http.MethodPost, "/v3/domains", formBody(url.Values{"name": {"bad.example.com"}, "colour": {"red"}, "wildcard": {"maybe"}}))
		if status != http.StatusBadRequest || !strings.Contains(string(body), `'wildcard' parameter must be yes, no, true or false, not \"maybe\"`) {
			t.Errorf("bad wildcard beside an unknown field = %d %s, want 400 naming wildcard", status, body)
		}
		status, body = e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(url.Values{
			"from": {"sender@" + testDomain}, "to": {"a@dest.example"}, "subject": {"s"}, "text": {"x"},
			"o:bogus": {"1"}, "o:testmode": {"perhaps"}}))
		if status != http.StatusBadRequest || !strings.Contains(string(body), "'o:testmode' parameter must be yes, no, true or false") {
			t.Errorf("bad o:testmode beside an unknown option = %d %s, want 400 naming o:testmode", status, body)
		}
	})
}
