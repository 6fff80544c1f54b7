package store

import (
	"context"
	"time"
)

// Export states, as the API shows them.
const (
	ExportQueued     = "queued"
	ExportProcessing = "processing"
	ExportComplete   = "complete"
	ExportFailed     = "failed"
)

// Export is a list endpoint's records being written as CSV in the
// background (/v3/exports). Data is the CSV once complete.
type Export struct {
	ID         string
	URL        string // as the client gave it
	Domain     string
	List       string // a suppression list (Bounces, …)
	State      string
	Rows       int
	Message    string // why it failed
	Data       []byte
	LeaseUntil time.Time
	Owner      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ExportStore is the exports part of the regional store.
type ExportStore interface {
	CreateExport(ctx context.Context, e Export) error
	// Export returns an export, with its data when withData.
	Export(ctx context.Context, id string, withData bool) (Export, error)
	// Exports lists the exports created since since, newest first, without
	// data; url, when not empty, keeps those of that URL.
	Exports(ctx context.Context, url string, since time.Time, limit int) ([]Export, error)
	// ClaimExport leases the oldest queued export, or one whose lease ran
	// out (its worker died), to owner until lease; nil when there is none.
	ClaimExport(ctx context.Context, owner string, now, lease time.Time) (*Export, error)
	// FinishExport ends an export that owner holds in state (complete or
	// failed) with its data, row count and message; ErrNotFound when owner
	// no longer holds it.
	FinishExport(ctx context.Context, e Export) error
	// DeleteExports removes the exports created before t.
	DeleteExports(ctx context.Context, before time.Time) error
}
