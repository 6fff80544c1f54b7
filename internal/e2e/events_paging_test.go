package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// sendTestMode sends n test-mode messages (an accepted and a delivered
// event each, nothing at the MX) and waits for their events.
func (e *sendEnv) sendTestMode(n int) {
	e.t.Helper()
	before := len(e.storeEvents(""))
	for i := range n {
		e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"rcpt" + strconv.Itoa(i) + "@dest.example"},
			"subject": {"paging"}, "text": {"x"}, "o:testmode": {"yes"}})
	}
	e.waitEvents("", before+2*n)
}

func ids(evs []mgapi.Event) string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return strings.Join(out, ",")
}

// page GETs one events page and checks the paging contract every page
// keeps: four absolute links on the public URL whose last segment is a
// token without '/'.
func (e *sendEnv) page(u string) eventsPage {
	e.t.Helper()
	var p eventsPage
	e.getJSON(u, &p)
	prefix := e.app.URL + "/v3/" + testDomain + "/events/"
	for name, link := range map[string]string{"first": p.Paging.First, "last": p.Paging.Last,
		"next": p.Paging.Next, "previous": p.Paging.Previous} {
		tok, ok := strings.CutPrefix(link, prefix)
		if !ok || tok == "" || strings.ContainsAny(tok, "/?#%") {
			e.t.Fatalf("paging.%s = %q, want %s<token> with a token free of / ? # %%", name, link, prefix)
		}
	}
	if p.Items == nil {
		e.t.Fatalf("GET %s: items is null, want []", u)
	}
	return p
}

// TestEventsPagingContract checks the Events API paging rules of
// docs/mailgun-contract.md §3.3 on the wire.
func TestEventsPagingContract(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	start := e.clock.Now().Add(-time.Minute)
	e.sendTestMode(5) // 10 events
	all := e.events(url.Values{"ascending": {"yes"}, "begin": {strconv.FormatInt(start.Unix(), 10)}})
	if len(all) != 10 {
		t.Fatalf("%d events, want 10", len(all))
	}

	t.Run("next, previous, first and last", func(t *testing.T) {
		e := e.with(t)
		u := "/v3/" + testDomain + "/events?limit=3&pretty=no&ascending=yes&begin=" + strconv.FormatInt(start.Unix(), 10)
		var pages []eventsPage
		for p := e.page(u); len(p.Items) > 0; p = e.page(p.Paging.Next) {
			pages = append(pages, p)
		}
		if len(pages) != 4 {
			t.Fatalf("%d non-empty pages, want 4", len(pages))
		}
		var walked []mgapi.Event
		for _, p := range pages {
			walked = append(walked, p.Items...)
		}
		if ids(walked) != ids(all) {
			t.Fatalf("pages gave %s, want %s", ids(walked), ids(all))
		}
		// previous walks back page by page, then ends on an empty page.
		p := pages[3]
		for i := 2; i >= 0; i-- {
			p = e.page(p.Paging.Previous)
			if ids(p.Items) != ids(pages[i].Items) {
				t.Fatalf("previous to page %d = %s, want %s", i, ids(p.Items), ids(pages[i].Items))
			}
		}
		if p = e.page(p.Paging.Previous); len(p.Items) != 0 {
			t.Fatalf("previous of the first page = %s, want none", ids(p.Items))
		}
		if p = e.page(p.Paging.Next); ids(p.Items) != ids(pages[0].Items) {
			t.Fatalf("next of the empty page before the first = %s, want %s", ids(p.Items), ids(pages[0].Items))
		}
		if first := e.page(pages[2].Paging.First); ids(first.Items) != ids(pages[0].Items) {
			t.Errorf("first = %s, want %s", ids(first.Items), ids(pages[0].Items))
		}
		if last := e.page(pages[0].Paging.Last); ids(last.Items) != ids(all[7:]) {
			t.Errorf("last = %s, want %s", ids(last.Items), ids(all[7:]))
		}
		// The token alone is enough (mailgun.js keeps only the last segment).
		tok := pages[0].Paging.Next[strings.LastIndexByte(pages[0].Paging.Next, '/')+1:]
		if again := e.page("/v3/" + testDomain + "/events/" + tok); ids(again.Items) != ids(pages[1].Items) {
			t.Errorf("page by token = %s, want %s", ids(again.Items), ids(pages[1].Items))
		}
	})

	t.Run("descending pages", func(t *testing.T) {
		e := e.with(t)
		var got []mgapi.Event
		for p := e.page("/v3/" + testDomain + "/events?limit=4"); len(p.Items) > 0; p = e.page(p.Paging.Next) {
			got = append(got, p.Items...)
		}
		for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
			got[i], got[j] = got[j], got[i]
		}
		if ids(got) != ids(all) {
			t.Errorf("descending pages reversed = %s, want %s", ids(got), ids(all))
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		e := e.with(t)
		base := "/v3/" + testDomain + "/events"
		for _, c := range []struct {
			query string
			want  int
		}{
			{"limit=300", 200}, {"limit=301", 400}, {"limit=0", 400}, {"limit=many", 400},
			{"event=" + url.QueryEscape("(accepted"), 400}, {"event=" + url.QueryEscape("accepted OR"), 400}, {"event=NOT", 400},
			{"tags=" + url.QueryEscape(`"unterminated`), 400}, {"colour=blue", 200},
			{"begin=yesterday", 400}, {"begin=" + url.QueryEscape("Mon, 02 Jan 2026 10:00:00 CET"), 400},
			{"begin=1700000000&end=1600000000&ascending=yes", 400},
		} {
			status, body := e.call(http.MethodGet, base+"?"+c.query, reqBody{})
			if status != c.want {
				t.Errorf("GET events?%s = %d %s, want %d", c.query, status, body, c.want)
			}
			var m map[string]any
			if status == 400 && (json.Unmarshal(body, &m) != nil || m["message"] == "") {
				t.Errorf("GET events?%s: body %s, want {\"message\": …}", c.query, body)
			}
		}
		if status, body := e.call(http.MethodGet, base+"/not-a-token", reqBody{}); status != 400 {
			t.Errorf("bad token = %d %s", status, body)
		}
		// The token holds the query: a filter repeated (or added) on a
		// page URL is checked, then ignored (issue 22).
		p := e.page(base + "?limit=2")
		var again eventsPage
		e.getJSON(p.Paging.Next+"?event=failed", &again)
		if len(again.Items) != 2 || again.Items[0].Event == "failed" {
			t.Errorf("filter added to a page URL: %d items (%s), want the token's next 2 unfiltered", len(again.Items), ids(again.Items))
		}
	})
}

// TestEventsLiveAscending: the empty page after the last one is where a
// poller waits; asking for the same URL later returns what arrived since.
func TestEventsLiveAscending(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	begin := strconv.FormatInt(e.clock.Now().Add(-time.Minute).Unix(), 10)
	e.sendTestMode(2)
	p := e.page("/v3/" + testDomain + "/events?ascending=yes&limit=300&begin=" + begin)
	if len(p.Items) != 4 {
		t.Fatalf("first page: %d events, want 4", len(p.Items))
	}
	last := p.Items[3]
	tail := p.Paging.Next
	if empty := e.page(tail); len(empty.Items) != 0 {
		t.Fatalf("next after the last page = %d events, want {\"items\": []}", len(empty.Items))
	}
	// The empty page's previous walks back to what came before.
	if back := e.page(e.page(tail).Paging.Previous); len(back.Items) != 4 || back.Items[3].ID != last.ID {
		t.Fatalf("previous of the empty page = %s", ids(back.Items))
	}
	e.sendTestMode(1)
	fresh := e.page(tail)
	if len(fresh.Items) != 2 || fresh.Items[0].Event != "accepted" || fresh.Items[1].Event != "delivered" {
		t.Fatalf("same next URL after new events = %s, want the new accepted and delivered", ids(fresh.Items))
	}
	if fresh.Items[0].ID == last.ID {
		t.Fatal("the live page repeated an old event")
	}
	if again := e.page(fresh.Paging.Next); len(again.Items) != 0 {
		t.Fatalf("next after the new events = %s, want none", ids(again.Items))
	}
}
