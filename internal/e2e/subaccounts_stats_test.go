package e2e

import (
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestSubaccountStats: account stats and metrics count the caller's
// account's domains; the parent adds its subaccounts' with
// include_subaccounts, and /v1/analytics/metrics has a subaccount
// dimension and filter.
func TestSubaccountStats(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	createDomain(t, ta, "parent.example.com")
	sub := createSubaccount(t, ta, "tenant")
	ta.Call(t, http.MethodPost, "/v3/domains", ta.Key, behalf(testutil.Form(url.Values{"name": {"tenant.example.com"}}), sub)).
		Want(t, http.StatusOK)
	send := func(domain, onBehalf string, n int) {
		for range n {
			ta.Call(t, http.MethodPost, "/v3/"+domain+"/messages", ta.Key, behalf(testutil.Form(url.Values{
				"from": {"x@" + domain}, "to": {"y@dest.example"}, "subject": {"s"}, "text": {"t"}, "o:testmode": {"yes"}}), onBehalf)).
				Want(t, http.StatusOK)
		}
	}
	send("parent.example.com", "", 1)
	send("tenant.example.com", sub, 2)

	accepted := func(query, onBehalf string) int64 {
		var st mgapi.Stats
		ta.Call(t, http.MethodGet, "/v3/stats/total?event=accepted&duration=1d"+query, ta.Key, behalf(testutil.NoBody, onBehalf)).
			Want(t, http.StatusOK).Decode(t, &st)
		var n int64
		for _, s := range st.Stats {
			n += s.Accepted.Total
		}
		return n
	}
	for _, c := range []struct {
		query, behalf string
		want          int64
	}{{"", "", 1}, {"&include_subaccounts=true", "", 3}, {"", sub, 2}, {"&include_subaccounts=true", sub, 2}} {
		if got := accepted(c.query, c.behalf); got != c.want {
			t.Errorf("stats total%s (On-Behalf-Of %q): %d accepted, want %d", c.query, c.behalf, got, c.want)
		}
	}

	metrics := func(body, onBehalf string) mgapi.MetricsResponse {
		var out mgapi.MetricsResponse
		ta.Call(t, http.MethodPost, "/v1/analytics/metrics", ta.Key, behalf(testutil.Raw("application/json", body), onBehalf)).
			Want(t, http.StatusOK).Decode(t, &out)
		return out
	}
	byAccount := map[string]float64{}
	for _, it := range metrics(`{"duration":"1d","dimensions":["subaccount"],"metrics":["accepted_count"],"include_subaccounts":true}`, "").Items {
		if len(it.Dimensions) != 1 || it.Dimensions[0].Dimension != "subaccount" || it.Dimensions[0].Value == "" {
			t.Fatalf("metrics item %+v, want one subaccount dimension", it)
		}
		byAccount[it.Dimensions[0].Value] += it.Metrics["accepted_count"].(float64)
	}
	if len(byAccount) != 2 || byAccount[sub] != 2 {
		t.Fatalf("accepted by account %v, want 2 for %s and 1 for the parent", byAccount, sub)
	}
	filtered := metrics(`{"duration":"1d","metrics":["accepted_count"],"include_subaccounts":true,"include_aggregates":true,
		"filter":{"AND":[{"attribute":"subaccount","comparator":"=","values":[{"label":"t","value":"`+sub+`"}]}]}}`, "")
	if filtered.Aggregates == nil || filtered.Aggregates.Metrics["accepted_count"].(float64) != 2 {
		t.Fatalf("metrics filtered on the subaccount: %+v, want 2 accepted", filtered.Aggregates)
	}
	own := metrics(`{"duration":"1d","metrics":["accepted_count"],"include_aggregates":true}`, "")
	if own.Aggregates == nil || own.Aggregates.Metrics["accepted_count"].(float64) != 1 {
		t.Fatalf("parent metrics without subaccounts: %+v, want 1 accepted", own.Aggregates)
	}
	// A subaccount's include_subaccounts changes nothing: it has none.
	subs := metrics(`{"duration":"1d","dimensions":["domain"],"metrics":["accepted_count"],"include_subaccounts":true}`, sub)
	if len(subs.Items) != 1 || subs.Items[0].Dimensions[0].Value != "tenant.example.com" ||
		subs.Items[0].Metrics["accepted_count"].(float64) != 2 {
		t.Fatalf("a subaccount's metrics by domain: %+v, want its own domain only with 2 accepted", subs.Items)
	}
}

// TestSubaccountAnalyticsLogs: POST /v1/analytics/logs shows the
// caller's account's events; the parent adds its subaccounts' with
// include_subaccounts, and the subaccount filter attribute keeps (=) or
// drops (!=) accounts by id. A subaccount's include_subaccounts changes
// nothing.
// It runs on SQLite and PostgreSQL.
func TestSubaccountAnalyticsLogs(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			subaccountAnalyticsLogs(t, pg)
		})
	}
}

func subaccountAnalyticsLogs(t *testing.T, postgres bool) {
	ta := testutil.StartApp(t, testutil.AppOptions{Postgres: postgres})
	createDomain(t, ta, "parent-logs.example.com")
	sub := createSubaccount(t, ta, "tenant")
	other := createSubaccount(t, ta, "other")
	for _, c := range []struct{ domain, behalf string }{{"tenant-logs.example.com", sub}, {"other-logs.example.com", other}} {
		ta.Call(t, http.MethodPost, "/v3/domains", ta.Key, behalf(testutil.Form(url.Values{"name": {c.domain}}), c.behalf)).
			Want(t, http.StatusOK)
	}
	send := func(domain, onBehalf string, n int) {
		for range n {
			ta.Call(t, http.MethodPost, "/v3/"+domain+"/messages", ta.Key, behalf(testutil.Form(url.Values{
				"from": {"x@" + domain}, "to": {"y@dest.example"}, "subject": {"s"}, "text": {"t"}, "o:testmode": {"yes"}}), onBehalf)).
				Want(t, http.StatusOK)
		}
	}
	send("parent-logs.example.com", "", 1)
	send("tenant-logs.example.com", sub, 2)
	send("other-logs.example.com", other, 3)

	byDomain := func(body, onBehalf string) map[string]int {
		t.Helper()
		var out mgapi.LogsResponse
		ta.Call(t, http.MethodPost, "/v1/analytics/logs", ta.Key, behalf(testutil.JSON(body), onBehalf)).
			Want(t, http.StatusOK).Decode(t, &out)
		got := map[string]int{}
		for _, it := range out.Items {
			dom, _ := it["domain"].(map[string]any)
			name, _ := dom["name"].(string)
			got[name]++
		}
		return got
	}
	filter := func(cmp, id string) string {
		return `,"filter":{"AND":[{"attribute":"subaccount","comparator":"` + cmp + `","values":[{"label":"s","value":"` + id + `"}]}]}`
	}
	const base = `{"duration":"1d","events":["accepted"]`
	for _, c := range []struct {
		name, body, behalf string
		want               map[string]int
	}{
		{"parent alone", base + `}`, "", map[string]int{"parent-logs.example.com": 1}},
		{"parent with subaccounts", base + `,"include_subaccounts":true}`, "",
			map[string]int{"parent-logs.example.com": 1, "tenant-logs.example.com": 2, "other-logs.example.com": 3}},
		{"parent, one subaccount", base + `,"include_subaccounts":"yes"` + filter("=", sub) + `}`, "",
			map[string]int{"tenant-logs.example.com": 2}},
		{"parent, all but one subaccount", base + `,"include_subaccounts":true` + filter("!=", sub) + `}`, "",
			map[string]int{"parent-logs.example.com": 1, "other-logs.example.com": 3}},
		{"parent without the flag filters its own", base + filter("=", sub) + `}`, "", map[string]int{}},
		{"subaccount alone", base + `}`, sub, map[string]int{"tenant-logs.example.com": 2}},
		{"subaccount's flag changes nothing", base + `,"include_subaccounts":true}`, sub, map[string]int{"tenant-logs.example.com": 2}},
		{"subaccount filtering another", base + `,"include_subaccounts":true` + filter("=", other) + `}`, sub, map[string]int{}},
	} {
		if got := byDomain(c.body, c.behalf); !maps.Equal(got, c.want) {
			t.Errorf("%s: accepted by domain %v, want %v", c.name, got, c.want)
		}
	}
}
