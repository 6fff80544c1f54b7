package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestAnalyticsLogs: POST /v1/analytics/logs over two domains' events,
// as mailgun.js logs.list sends it (JSON, RFC 2822 dates with -0000, an
// empty end): the merged order, token paging without gaps or repeats,
// the events list, domain and recipient filters, the item shape, and
// client mistakes (SQLite and PostgreSQL).
func TestAnalyticsLogs(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg})
			doms := []string{"logs-a.example.com", "logs-b.example.com"}
			for _, d := range doms {
				createDomain(t, ta, d)
			}
			const perDomain = 4
			for i := range perDomain {
				for _, d := range doms {
					ta.Call(t, http.MethodPost, "/v3/"+d+"/messages", ta.Key, testutil.Form(url.Values{
						"from": {"s@" + d}, "to": {fmt.Sprintf("r%d@dest.example", i)}, "subject": {"hi"}, "text": {"x"},
						"o:testmode": {"yes"}})).Want(t, http.StatusOK)
				}
			}
			start := mgapi.FormatDate(time.Now().Add(-time.Hour))
			start = start[:len(start)-5] + "-0000" // as mailgun.js writes it
			query := func(body string) mgapi.LogsResponse {
				t.Helper()
				var out mgapi.LogsResponse
				ta.Call(t, http.MethodPost, "/v1/analytics/logs", ta.Key, testutil.JSON(body)).Want(t, http.StatusOK).Decode(t, &out)
				return out
			}
			all := fmt.Sprintf(`{"start":%q,"end":"","events":["accepted","delivered"],"pagination":{"sort":"timestamp:asc","limit":100}}`, start)
			testutil.WaitFor(t, 30*time.Second, func() bool { return len(query(all).Items) == 4*perDomain },
				func() string { return fmt.Sprintf("%d items, want %d", len(query(all).Items), 4*perDomain) })
			full := query(all)
			seen := map[string]bool{}
			var prev string
			for _, it := range full.Items {
				ts, _ := it["@timestamp"].(string)
				if _, err := time.Parse(time.RFC3339, ts); err != nil || ts < prev {
					t.Fatalf("item @timestamp %q after %q: not ascending RFC 3339 (%v)", ts, prev, err)
				}
				prev = ts
				dom, _ := it["domain"].(map[string]any)
				if it["timestamp"] != nil || dom["name"] == nil || it["recipient-domain"] != "dest.example" || it["id"] == nil {
					t.Fatalf("item shape: %v", it)
				}
				seen[it["id"].(string)] = true
			}
			// Pages of three, following the tokens, give the same events in the same order.
			var paged []string
			token := ""
			for range 20 {
				p := query(fmt.Sprintf(`{"start":%q,"events":["accepted","delivered"],"pagination":{"sort":"timestamp:asc","limit":"3","token":%q}}`, start, token))
				for _, it := range p.Items {
					paged = append(paged, it["id"].(string))
				}
				if token = p.Pagination.Next; token == "" {
					break
				}
			}
			if len(paged) != len(full.Items) {
				t.Fatalf("paged %d items, want %d", len(paged), len(full.Items))
			}
			for i, id := range paged {
				if id != full.Items[i]["id"] {
					t.Fatalf("page item %d = %s, want %s", i, id, full.Items[i]["id"])
				}
			}
			// Filters: one domain's delivered events; one recipient; newest first by default.
			f := query(fmt.Sprintf(`{"start":%q,"events":["delivered"],"filter":{"AND":[{"attribute":"domain","comparator":"=","values":[{"label":"a","value":"logs-b.example.com"}]}]}}`, start))
			if len(f.Items) != perDomain {
				t.Fatalf("domain filter: %d items, want %d", len(f.Items), perDomain)
			}
			for _, it := range f.Items {
				if it["event"] != "delivered" || it["domain"].(map[string]any)["name"] != "logs-b.example.com" {
					t.Fatalf("domain filter let through %v", it)
				}
			}
			if a, b := f.Items[0]["@timestamp"].(string), f.Items[len(f.Items)-1]["@timestamp"].(string); a < b {
				t.Errorf("default order not newest first: %s then %s", a, b)
			}
			r := query(fmt.Sprintf(`{"start":%q,"filter":{"AND":[{"attribute":"recipient","comparator":"=","values":[{"label":"r","value":"R1@dest.example"}]},{"attribute":"event","comparator":"!=","values":[{"label":"x","value":"accepted"}]}]}}`, start))
			if len(r.Items) != 2 {
				t.Fatalf("recipient filter: %d items, want 2 (delivered, one per domain): %v", len(r.Items), r.Items)
			}
			raw := ta.Call(t, http.MethodPost, "/v1/analytics/logs", ta.Key, testutil.JSON(`{"start":"`+start+`"}`)).Want(t, http.StatusOK)
			var shape map[string]json.RawMessage
			raw.Decode(t, &shape)
			if len(shape["start"]) == 0 || len(shape["end"]) == 0 || len(shape["items"]) == 0 || len(shape["pagination"]) == 0 {
				t.Errorf("answer lacks start, end, items or pagination: %s", raw.Body)
			}

			for body, msg := range map[string]string{
				`{"events":["bogus"]}`:                                                  `event "bogus" is not one Salvo records`,
				`{"pagination":{"limit":101}}`:                                          "'pagination.limit' must be between 1 and 100",
				`{"pagination":{"token":"!!"}}`:                                         "'pagination.token' is not a token this API gave",
				`{"pagination":{"sort":"size"}}`:                                        `'pagination.sort' must be timestamp:asc or timestamp:desc, not "size"`,
				`{"filter":{"AND":[{"attribute":"tag","comparator":"=","values":[]}]}}`: `filter attribute "tag" is not supported`,
				`{"start":"yesterday"}`:                                                 "",
				`[1,2]`:                                                                 "",
			} {
				r := ta.Call(t, http.MethodPost, "/v1/analytics/logs", ta.Key, testutil.JSON(body))
				var m struct{ Message string }
				r.Want(t, http.StatusBadRequest).Decode(t, &m)
				if msg != "" && (len(m.Message) < len(msg) || m.Message[:len(msg)] != msg) {
					t.Errorf("%s: %s, want a message starting %q", body, r, msg)
				}
			}
		})
	}
}
