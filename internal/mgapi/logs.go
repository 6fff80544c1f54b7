package mgapi

// LogsRequest is the JSON body of POST /v1/analytics/logs (Mailgun's
// newer logs API; mailgun.js logs.list).
type LogsRequest struct {
	Start              string         `json:"start"`
	End                string         `json:"end"`
	Duration           string         `json:"duration"`
	Events             []string       `json:"events"`
	MetricEvents       []string       `json:"metric_events"`
	Filter             MetricsFilter  `json:"filter"`
	IncludeSubaccounts FlexBool       `json:"include_subaccounts"`
	IncludeTotals      FlexBool       `json:"include_totals"`
	Pagination         LogsPagination `json:"pagination"`
}

// LogsPagination asks for a page: sort "timestamp:asc" or
// "timestamp:desc" (the default), a token from an earlier page's next,
// and a limit (≤ 100).
type LogsPagination struct {
	Sort  string  `json:"sort"`
	Token string  `json:"token"`
	Limit FlexInt `json:"limit"`
}

// LogsResponse is the answer: items are events as the Events API shows
// them, with "@timestamp" (RFC 3339) for "timestamp" and "domain" as
// {"name": …}.
type LogsResponse struct {
	Start      string           `json:"start"`
	End        string           `json:"end"`
	Items      []map[string]any `json:"items"`
	Pagination LogsPageLinks    `json:"pagination"`
}

// LogsPageLinks holds the token of the next page, when there is one.
type LogsPageLinks struct {
	Next string `json:"next,omitempty"`
}
