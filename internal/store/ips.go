package store

import (
	"context"
	"time"
)

// IPPool is a named group of source addresses (Mailgun's dedicated IP
// pools, docs/mailgun-contract.md §13.1) that domains or messages send from in rotation.
// IPs are canonical textual addresses, each once.
type IPPool struct {
	ID          string
	Name        string
	Description string
	IPs         []string
	CreatedAt   time.Time
}

// IPPoolStore keeps a region's IP pools. Every method returns ErrNotFound
// for an unknown id.
type IPPoolStore interface {
	CreateIPPool(ctx context.Context, p IPPool) error
	IPPool(ctx context.Context, id string) (IPPool, error)
	// IPPools lists every pool by name.
	IPPools(ctx context.Context) ([]IPPool, error)
	// UpdateIPPool stores Name, Description and IPs of the pool p.ID.
	UpdateIPPool(ctx context.Context, p IPPool) error
	DeleteIPPool(ctx context.Context, id string) error
}
