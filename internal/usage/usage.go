// Package usage keeps the account's usage details (the seed's "billing
// details"): per domain and month, the messages accepted, delivered and
// failed for good.
//
// They are global data made of region-bound facts, so they travel as
// counters only: each node periodically reads its region's statistics
// counters (kept in the same transactions as the events, see
// store.StatsStore) and writes the absolute monthly totals of its region's
// domains to the global store. Writing totals, not increments, makes a
// report idempotent: a crash, a repeat or two nodes of one region
// reporting at once never double counts; the global figures trail the
// regional ones by at most one report interval.
package usage

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Reporter copies this region's monthly totals to the global store.
type Reporter struct {
	Global   store.Global
	Regional store.Regional
	Region   string
	Now      func() time.Time
}

// MonthOf is the month key of t ("2006-01", UTC).
func MonthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// Report writes the totals of the current month and, during the first
// day of a month, of the previous one (whose last hours may have been
// counted since the previous report).
func (r *Reporter) Report(ctx context.Context) error {
	now := r.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	months := []time.Time{start}
	if now.Sub(start) < 24*time.Hour {
		months = append(months, start.AddDate(0, -1, 0))
	}
	acct, err := r.Global.Account(ctx)
	if err != nil {
		return err
	}
	for _, m := range months {
		rows, err := r.totals(ctx, m, m.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		for i := range rows {
			rows[i].AccountID, rows[i].Region, rows[i].UpdatedAt = acct.ID, r.Region, now
		}
		if err := r.Global.PutUsage(ctx, rows); err != nil {
			return err
		}
	}
	return nil
}

// totals sums the daily counters of [from, to) per domain.
func (r *Reporter) totals(ctx context.Context, from, to time.Time) ([]store.Usage, error) {
	counts, err := r.Regional.StatCounts(ctx, store.StatQuery{Resolution: store.Daily, Start: from, End: to})
	if err != nil {
		return nil, err
	}
	byDomain := map[string]*store.Usage{}
	var order []string
	for _, c := range counts {
		u := byDomain[c.Domain]
		if u == nil {
			u = &store.Usage{Domain: c.Domain, Month: MonthOf(from)}
			byDomain[c.Domain] = u
			order = append(order, c.Domain)
		}
		switch {
		case strings.HasPrefix(c.Name, "accepted."):
			u.Accepted += c.N
		case strings.HasPrefix(c.Name, "delivered."):
			u.Delivered += c.N
		case strings.HasPrefix(c.Name, "failed.permanent."):
			u.Failed += c.N
		}
	}
	out := make([]store.Usage, 0, len(order))
	for _, d := range order {
		out = append(out, *byDomain[d])
	}
	return out, nil
}

// Summary is a month's usage: the account's totals and each domain's.
type Summary struct {
	Month     string        `json:"month"`
	Accepted  int64         `json:"accepted"`
	Delivered int64         `json:"delivered"`
	Failed    int64         `json:"failed"`
	Domains   []DomainUsage `json:"domains"`
}

// DomainUsage is one domain's line of a Summary.
type DomainUsage struct {
	Domain    string `json:"domain"`
	Region    string `json:"region"`
	Accepted  int64  `json:"accepted"`
	Delivered int64  `json:"delivered"`
	Failed    int64  `json:"failed"`
	UpdatedAt string `json:"updated_at"`
}

// Read returns a month's usage from the global store (every region).
func Read(ctx context.Context, g store.Global, month string) (Summary, error) {
	return ReadOf(ctx, g, month, "")
}

// ReadOf is Read for the domains of one account only (by the global
// account id their names carry), or of every account when accountID is
// empty: a parent's usage includes its subaccounts', as Mailgun rolls
// them up, while a subaccount sees its own.
func ReadOf(ctx context.Context, g store.Global, month, accountID string) (Summary, error) {
	rows, err := g.Usage(ctx, month)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Month: month, Domains: []DomainUsage{}}
	for _, u := range rows {
		if accountID != "" {
			dn, err := g.DomainName(ctx, u.Domain)
			if errors.Is(err, store.ErrNotFound) || (err == nil && dn.AccountID != accountID) {
				continue
			}
			if err != nil {
				return Summary{}, err
			}
		}
		s.Accepted += u.Accepted
		s.Delivered += u.Delivered
		s.Failed += u.Failed
		s.Domains = append(s.Domains, DomainUsage{Domain: u.Domain, Region: u.Region, Accepted: u.Accepted,
			Delivered: u.Delivered, Failed: u.Failed, UpdatedAt: u.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	return s, nil
}
