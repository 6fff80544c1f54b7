package store

import (
	"context"
	"time"
)

// Usage is one domain's message counts for one month ("2006-01"), kept in
// the global store.
type Usage struct {
	Domain    string
	Month     string
	AccountID string
	Region    string
	Accepted  int64
	Delivered int64
	Failed    int64
	UpdatedAt time.Time
}

// UsageStore is the usage part of the global store.
type UsageStore interface {
	// PutUsage stores absolute totals, replacing what was there.
	PutUsage(ctx context.Context, rows []Usage) error
	// Usage lists a month's rows by domain.
	Usage(ctx context.Context, month string) ([]Usage, error)
}
