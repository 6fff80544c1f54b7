package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStatsRanges: the default is the week up to today; bad ranges are
// refused above the form with a 400; an unknown domain is a 404.
func TestStatsRanges(t *testing.T) {
	t.Parallel()
	_, c, _ := withDomain(t)
	today := time.Now().UTC()
	p := c.get("/dashboard/stats")
	if p.StatusCode != http.StatusOK || strings.Count(p.Body, `<tr class="stats-day"`) != 7 ||
		!strings.Contains(p.Body, `value="`+today.AddDate(0, 0, -6).Format(time.DateOnly)+`"`) {
		t.Fatalf("default stats page: %d\n%s", p.StatusCode, p.Body)
	}
	p = c.get("/dashboard/stats?domain=" + testDomain + "&from=2025-01-01&to=2025-01-31")
	if p.StatusCode != http.StatusOK || strings.Count(p.Body, `<tr class="stats-day"`) != 31 ||
		strings.Count(p.Body, `<circle `) != 31*7 {
		t.Fatalf("January: %d", p.StatusCode)
	}
	for query, want := range map[string]string{
		"from=2025-02-01&to=2025-01-01":                 "The range starts (2025-02-01) after it ends (2025-01-01).",
		"from=2023-01-01&to=2025-01-01":                 "The range is longer than 366 days, the most the daily view shows; choose a shorter one or a coarser resolution.",
		"from=yesterday":                                `From &#34;yesterday&#34; is not a date such as 2025-01-31.`,
		"to=2025-13-01":                                 `To &#34;2025-13-01&#34; is not a date such as 2025-01-31.`,
		"resolution=hour&from=2025-01-01&to=2025-03-01": "The range is longer than 31 days, the most the hourly view shows; choose a shorter one or a coarser resolution.",
	} {
		p := c.get("/dashboard/stats?" + query)
		if p.StatusCode != http.StatusBadRequest || !strings.Contains(p.Body, `id="stats-error">`+want) || strings.Contains(p.Body, "stats-chart") {
			t.Errorf("%s: %d, want the error %s above the form", query, p.StatusCode, want)
		}
	}
	if p := c.get("/dashboard/stats?domain=other.example.com"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown domain: %d", p.StatusCode)
	}
}
