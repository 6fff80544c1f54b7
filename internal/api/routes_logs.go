package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/stats"
)

// logsRoutes: POST /v1/analytics/logs (docs/mailgun-contract.md §3.5) over this region's
// events.
func (s *Server) logsRoutes() {
	s.handle(http.MethodPost, "/v1/analytics/logs", auth.Account, s.analyticsLogs)
}

// logEvents are the event names the logs API takes that Salvo records.
var logEvents = []string{"accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained",
	"rejected", "stored"}

func (s *Server) analyticsLogs(c *Ctx) (any, error) {
	var req mgapi.LogsRequest
	if len(c.P.JSON) > 0 {
		if err := json.Unmarshal(c.P.JSON, &req); err != nil {
			return nil, fault.Invalidf("request body is not a logs query: %v", err)
		}
	} else if len(c.P.Names()) > 0 {
		return nil, fault.Invalidf("send the logs query as a JSON body (Content-Type: application/json)")
	}
	q, err := s.logsQuery(c, req)
	if err != nil {
		return nil, err
	}
	page, err := events.Logs(c.R.Context(), s.Regional, q)
	if err != nil {
		return nil, err
	}
	out := mgapi.LogsResponse{Start: mgapi.FormatDate(q.Start), End: mgapi.FormatDate(q.End), Items: page.Items}
	if out.Items == nil {
		out.Items = []map[string]any{}
	}
	if page.Next != nil {
		out.Pagination.Next = events.LogsToken(*page.Next)
	}
	return out, nil
}

func (s *Server) logsQuery(c *Ctx, req mgapi.LogsRequest) (events.LogsQuery, error) {
	var q events.LogsQuery
	rng, err := stats.ParseRange(req.Start, req.End, req.Duration, "", s.Now())
	if err != nil {
		return q, err
	}
	if req.Start == "" && req.Duration == "" {
		rng.Start = rng.End.Add(-24 * time.Hour) // Mailgun's default: a day before end
	}
	q.Start, q.End = rng.Start, rng.End
	switch strings.ToLower(req.Pagination.Sort) {
	case "", "timestamp:desc", "timestamp":
	case "timestamp:asc":
		q.Ascending = true
	default:
		return q, fault.Invalidf("'pagination.sort' must be timestamp:asc or timestamp:desc, not %q", req.Pagination.Sort)
	}
	q.Limit = int(req.Pagination.Limit)
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 100 {
		return q, fault.Invalidf("'pagination.limit' must be between 1 and 100")
	}
	if req.Pagination.Token != "" {
		if q.After, err = events.ParseLogsToken(req.Pagination.Token); err != nil {
			return q, err
		}
	}
	for _, e := range append(req.Events, req.MetricEvents...) {
		if !slices.Contains(logEvents, e) {
			return q, fault.Invalidf("event %q is not one Salvo records; use %s", e, strings.Join(logEvents, ", "))
		}
		q.Types = addTo(q.Types, e)
	}
	// The tenant's own domains; the parent's with include_subaccounts
	// add its subaccounts' (a subaccount's flag changes nothing).
	domains, accounts, err := s.regionDomains(c, bool(req.IncludeSubaccounts))
	if err != nil {
		return q, err
	}
	for _, p := range req.Filter.And {
		if err := logsPredicate(&q, p, &domains, accounts); err != nil {
			return q, err
		}
	}
	q.Domains = domains
	return q, nil
}

// logsPredicate applies one filter condition: attribute domain,
// subaccount (an account id; the parent's own is the primary account's,
// as in /v1/analytics/metrics), recipient, message-id or event,
// comparator = or !=. accounts maps each domain to its account's id.
func logsPredicate(q *events.LogsQuery, p mgapi.MetricsPredicate, domains *[]string, accounts map[string]string) error {
	if p.Comparator != "=" && p.Comparator != "!=" {
		return fault.Invalidf("filter comparator %q is not supported; use = or !=", p.Comparator)
	}
	vals := map[string]bool{}
	for _, v := range p.Values {
		if p.Attribute == "message-id" {
			vals[strings.Trim(v.Value, "<>")] = true
		} else {
			vals[strings.ToLower(v.Value)] = true
		}
	}
	neg := p.Comparator == "!="
	switch p.Attribute {
	case "domain":
		*domains = slices.DeleteFunc(*domains, func(d string) bool { return vals[d] == neg })
	case "subaccount":
		*domains = slices.DeleteFunc(*domains, func(d string) bool { return vals[strings.ToLower(accounts[d])] == neg })
	case "recipient":
		setOf(&q.Recipients, &q.NotRecipients, vals, neg)
	case "message-id":
		setOf(&q.MessageIDs, &q.NotMessageIDs, vals, neg)
	case "event":
		setOf(&q.Types, &q.NotTypes, vals, neg)
	default:
		return fault.Invalidf("filter attribute %q is not supported; use domain, subaccount, recipient, message-id or event", p.Attribute)
	}
	return nil
}

// setOf narrows a keep set (intersection with vals) or adds vals to a
// drop set.
func setOf(keep, drop *map[string]bool, vals map[string]bool, neg bool) {
	if neg {
		for v := range vals {
			*drop = addTo(*drop, v)
		}
		return
	}
	if *keep == nil {
		*keep = vals
		return
	}
	for v := range *keep {
		if !vals[v] {
			delete(*keep, v)
		}
	}
}

func addTo(set map[string]bool, v string) map[string]bool {
	if set == nil {
		set = map[string]bool{}
	}
	set[v] = true
	return set
}
