package store

import (
	"context"
	"time"
)

// Suppression lists of a domain (docs/mailgun-contract.md §4), named as in their URLs.
const (
	Bounces      = "bounces"
	Unsubscribes = "unsubscribes"
	Complaints   = "complaints"
	Allowlist    = "whitelists"
)

// Suppression is one record of a domain's suppression list. Address is
// lower case; on the allowlist it is an address or, when Type is "domain",
// a whole domain.
type Suppression struct {
	Domain    string
	List      string
	Address   string
	Code      string   // bounces: the SMTP code, as text
	Error     string   // bounces: the server's reply
	Tags      []string // unsubscribes: "*" stands for every message
	Count     int      // complaints: how many were received
	Reason    string   // allowlist
	Type      string   // allowlist: "address" or "domain"
	CreatedAt time.Time
}

// SuppressionQuery pages through one list in address order. Term keeps
// the addresses that start with it. After and Before are exclusive pivots;
// with Before (or Last) the page is the one just before it, still returned
// in ascending order.
type SuppressionQuery struct {
	Domain string
	List   string
	Term   string
	After  string
	Before string
	Last   bool // the last page
	Limit  int
}

// Import states.
const (
	ImportPending = "pending"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// Import is a CSV file of suppressions being added in the background.
// Rows counts the data rows handled so far, so a claimer that takes over
// an import whose owner died goes on from there.
type Import struct {
	ID         string
	Domain     string
	List       string
	State      string
	Data       []byte
	Rows       int
	Added      int
	Failed     int
	Errors     []ImportError // the first ones only
	Message    string        // why the import failed as a whole
	LeaseUntil time.Time
	Owner      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ImportError is a refused row of an import.
type ImportError struct {
	Row     int    `json:"row"`
	Message string `json:"message"`
}

// ImportStep is one batch of an import: the records to add and the
// progress to record with them, in one transaction.
type ImportStep struct {
	ID      string
	Owner   string
	Records []Suppression
	Rows    int // data rows handled, this batch included
	Failed  int // refused rows in this batch
	Errors  []ImportError
	Lease   time.Time
	// Finish ends the import in this state (done or failed) with Message.
	Finish  string
	Message string
	Now     time.Time
}

// MaxImportErrors bounds the errors an import keeps.
const MaxImportErrors = 100

// SuppressionStore is the suppressions part of the regional store.
type SuppressionStore interface {
	// PutSuppressions adds records or updates those that exist, in one
	// transaction: an unsubscribe gains the new tags beside its old ones, a
	// complaint adds its count, other records are replaced.
	PutSuppressions(ctx context.Context, recs []Suppression) error
	Suppression(ctx context.Context, domain, list, address string) (Suppression, error)
	Suppressions(ctx context.Context, q SuppressionQuery) ([]Suppression, error)
	// DeleteSuppression removes one record; ErrNotFound when there is none.
	DeleteSuppression(ctx context.Context, domain, list, address string) error
	// RemoveUnsubscribeTag removes one tag of an unsubscribe, and the
	// record with its last tag; ErrNotFound when the address or the tag is
	// not there.
	RemoveUnsubscribeTag(ctx context.Context, domain, address, tag string) error
	// Unsubscribe records a recipient's own unsubscribe (tracking): it adds
	// rec, an unsubscribe, and writes ev, its unsubscribed event, in one
	// transaction. When the address is already unsubscribed from every tag
	// of rec ("*" covers all) nothing is written and added is false.
	Unsubscribe(ctx context.Context, rec Suppression, ev Event) (added bool, err error)
	// ClearSuppressions removes every record of a list.
	ClearSuppressions(ctx context.Context, domain, list string) error
	// MatchSuppressions returns the records of every list of domain that
	// name one of addrs (lower case), and allowlisted domains of theirs.
	MatchSuppressions(ctx context.Context, domain string, addrs []string) ([]Suppression, error)

	CreateImport(ctx context.Context, im Import) error
	// Import returns an import without its data.
	Import(ctx context.Context, domain, id string) (Import, error)
	// Imports lists a domain's imports, newest first, without their data.
	Imports(ctx context.Context, domain string, limit int) ([]Import, error)
	// ClaimImport leases the oldest import that is pending or whose lease
	// ended (its owner died) to owner until lease; nil when there is none.
	ClaimImport(ctx context.Context, owner string, now, lease time.Time) (*Import, error)
	// StepImport writes one batch of an import with its progress;
	// ErrNotFound when owner no longer holds the import.
	StepImport(ctx context.Context, s ImportStep) error
}
