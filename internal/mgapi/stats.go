package mgapi

import "encoding/json"

// Stats is GET /v3/{d}/stats/total and the tag stats (docs/mailgun-contract.md §10.2); tag and
// description only in the latter. Only the requested event types appear
// in each entry; every counter is an integer.
type Stats struct {
	Tag         string       `json:"tag,omitempty"`
	Description string       `json:"description,omitempty"`
	Start       string       `json:"start"`
	End         string       `json:"end"`
	Resolution  string       `json:"resolution"`
	Stats       []StatsEntry `json:"stats"`
}

// StatsEntry is one time bucket.
type StatsEntry struct {
	Time         string          `json:"time"`
	Accepted     *AcceptedStats  `json:"accepted,omitempty"`
	Delivered    *DeliveredStats `json:"delivered,omitempty"`
	Failed       *FailedStats    `json:"failed,omitempty"`
	Stored       *TotalStat      `json:"stored,omitempty"`
	Opened       *UniqueStat     `json:"opened,omitempty"`
	Clicked      *UniqueStat     `json:"clicked,omitempty"`
	Unsubscribed *TotalStat      `json:"unsubscribed,omitempty"`
	Complained   *TotalStat      `json:"complained,omitempty"`
}

type (
	AcceptedStats struct {
		Incoming int64 `json:"incoming"`
		Outgoing int64 `json:"outgoing"`
		Total    int64 `json:"total"`
	}
	DeliveredStats struct {
		SMTP      int64 `json:"smtp"`
		HTTP      int64 `json:"http"`
		Optimized int64 `json:"optimized"`
		Total     int64 `json:"total"`
	}
	FailedStats struct {
		Temporary TemporaryStats `json:"temporary"`
		Permanent PermanentStats `json:"permanent"`
	}
	TemporaryStats struct {
		ESPBlock int64 `json:"espblock"`
		Total    int64 `json:"total"`
	}
	PermanentStats struct {
		SuppressBounce      int64 `json:"suppress-bounce"`
		SuppressUnsubscribe int64 `json:"suppress-unsubscribe"`
		SuppressComplaint   int64 `json:"suppress-complaint"`
		Bounce              int64 `json:"bounce"`
		DelayedBounce       int64 `json:"delayed-bounce"`
		Webhook             int64 `json:"webhook"`
		Optimized           int64 `json:"optimized"`
		Total               int64 `json:"total"`
	}
	TotalStat struct {
		Total int64 `json:"total"`
	}
	UniqueStat struct {
		Total  int64 `json:"total"`
		Unique int64 `json:"unique"`
	}
)

// MetricsRequest is the body of POST /v1/analytics/metrics (docs/mailgun-contract.md §10.3).
type MetricsRequest struct {
	Start      string            `json:"start"`
	End        string            `json:"end"`
	Resolution string            `json:"resolution"`
	Duration   string            `json:"duration"`
	Dimensions []string          `json:"dimensions"`
	Metrics    []string          `json:"metrics"`
	Filter     MetricsFilter     `json:"filter"`
	Aggregates bool              `json:"include_aggregates"`
	Subaccts   bool              `json:"include_subaccounts"`
	Pagination MetricsPagination `json:"pagination"`
}

// MetricsFilter is an AND of predicates.
type MetricsFilter struct {
	And []MetricsPredicate `json:"AND"`
}

// MetricsPredicate compares an attribute with values.
type MetricsPredicate struct {
	Attribute  string `json:"attribute"`
	Comparator string `json:"comparator"`
	Values     []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"values"`
}

// MetricsPagination pages metrics items by skip and limit.
type MetricsPagination struct {
	Sort  string `json:"sort"`
	Skip  int    `json:"skip"`
	Limit int    `json:"limit"`
	Total int    `json:"total"`
}

// MetricsResponse is the reply; counts are integers and rates strings.
type MetricsResponse struct {
	Start      string            `json:"start"`
	End        string            `json:"end"`
	Resolution string            `json:"resolution"`
	Duration   string            `json:"duration"`
	Dimensions []string          `json:"dimensions"`
	Pagination MetricsPagination `json:"pagination"`
	Items      []MetricsItem     `json:"items"`
	Aggregates *MetricsAggregate `json:"aggregates,omitempty"`
}

// MetricsItem is one combination of dimension values.
type MetricsItem struct {
	Dimensions []MetricsDimension `json:"dimensions"`
	Metrics    map[string]any     `json:"metrics"`
}

// MetricsDimension is one dimension's value.
type MetricsDimension struct {
	Dimension    string `json:"dimension"`
	Value        string `json:"value"`
	DisplayValue string `json:"display_value"`
}

// MetricsAggregate holds the totals over every item.
type MetricsAggregate struct {
	Metrics map[string]any `json:"metrics"`
}

// UnmarshalJSON reads a metrics query whose scalars may come as numbers
// or strings (tolerant in): epoch numbers for start and end, "true" or
// "yes" for the booleans, numeric strings for skip and limit.
func (r *MetricsRequest) UnmarshalJSON(b []byte) error {
	type plain MetricsRequest
	var in struct {
		plain
		Start      FlexString `json:"start"`
		End        FlexString `json:"end"`
		Resolution FlexString `json:"resolution"`
		Duration   FlexString `json:"duration"`
		Aggregates FlexBool   `json:"include_aggregates"`
		Subaccts   FlexBool   `json:"include_subaccounts"`
		Pagination struct {
			Sort  FlexString `json:"sort"`
			Skip  FlexInt    `json:"skip"`
			Limit FlexInt    `json:"limit"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = MetricsRequest(in.plain)
	r.Start, r.End, r.Resolution, r.Duration = string(in.Start), string(in.End), string(in.Resolution), string(in.Duration)
	r.Aggregates, r.Subaccts = bool(in.Aggregates), bool(in.Subaccts)
	r.Pagination = MetricsPagination{Sort: string(in.Pagination.Sort), Skip: int(in.Pagination.Skip), Limit: int(in.Pagination.Limit)}
	return nil
}
