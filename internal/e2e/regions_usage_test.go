package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/usage"
)

// TestUsageIsGlobal: each region reports its domains' monthly counts to
// the global store; either region's /v1/usage shows the account's totals
// and every domain's, and the global store holds counters only.
func TestUsageIsGlobal(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		mx := testutil.StartFakeMX(t, testutil.MXOptions{})
		us, eu := twoRegions(t, postgres, func(c *config.Config) { c.Smarthost = mx.Addr })
		createDomain(t, us, "us-usage.example.com")
		createDomain(t, eu, "eu-usage.example.com")
		send := func(ta *testutil.TestApp, domain string, to ...string) {
			ta.Call(t, http.MethodPost, "/v3/"+domain+"/messages", ta.Key, testutil.Form(url.Values{
				"from": {"me@" + domain}, "to": to, "subject": {"usage"}, "text": {"hello"},
			})).Want(t, http.StatusOK)
		}
		send(us, "us-usage.example.com", "a@dest.example", "b@dest.example")
		send(eu, "eu-usage.example.com", "c@dest.example", "p550-d@dest.example")
		send(eu, "eu-usage.example.com", "e@dest.example")
		mx.WaitRecipients(t, 4, 30*time.Second)
		// Outcomes are recorded just after the MX answers: report until the
		// counts settle (the report is idempotent, so repeating it is fine).
		deadline := time.Now().Add(30 * time.Second)
		for {
			for _, ta := range []*testutil.TestApp{us, eu} {
				if err := ta.Usage.Report(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			s, err := usage.Read(context.Background(), us.Global, usage.MonthOf(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			if s.Delivered+s.Failed == 5 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		want := map[string][4]int64{ // region-independent: accepted, delivered, failed
			"us-usage.example.com": {2, 2, 0},
			"eu-usage.example.com": {3, 2, 1},
		}
		for _, ta := range []*testutil.TestApp{us, eu} {
			var s usage.Summary
			r := ta.Call(t, http.MethodGet, "/v1/usage", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
			if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
				t.Fatal(err)
			}
			if s.Accepted != 5 || s.Delivered != 4 || s.Failed != 1 || len(s.Domains) != 2 || s.Month != usage.MonthOf(time.Now()) {
				t.Errorf("%s: usage %s", ta.Cfg.Region, r.Body)
			}
			for _, d := range s.Domains {
				w := want[d.Domain]
				if d.Accepted != w[0] || d.Delivered != w[1] || d.Failed != w[2] || d.Region != strings.Split(d.Domain, "-")[0] {
					t.Errorf("%s: %+v, want %v", ta.Cfg.Region, d, w)
				}
			}
		}
		us.Call(t, http.MethodGet, "/v1/usage?month=2026-13", us.Key, testutil.NoBody).Want(t, http.StatusBadRequest)
		if rows := us.DumpGlobal(t)["usage"]; len(rows) != 2 || strings.Contains(strings.Join(rows, "\n"), "dest.example") {
			t.Errorf("global usage rows: %q", rows)
		}
	})
}
