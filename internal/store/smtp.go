package store

import (
	"context"
	"time"
)

// SMTPStore is the regional store's part for the SMTP services: a
// domain's SMTP credentials, the account's routes and the inbound queue.
// All three are region-bound (docs/mailgun-contract.md §14).
type SMTPStore interface {
	CredentialStore
	RouteStore
	InboundStore
}

// CredentialStore keeps SMTP credentials (Credential, in store.go). A
// login is a full address, lower case, unique across domains.
type CredentialStore interface {
	// Credential returns the credential of login, ErrNotFound when none.
	Credential(ctx context.Context, login string) (Credential, error)
	// Credentials lists a domain's credentials by login; total counts them all.
	Credentials(ctx context.Context, domain string, skip, limit int) (cs []Credential, total int, err error)
	// CreateCredentials stores cs in one transaction: ErrConflict, and
	// nothing stored, when any login exists.
	CreateCredentials(ctx context.Context, cs []Credential) error
	// SetCredentialHash replaces the hash of domain's login; ErrNotFound
	// when the domain has no such login.
	SetCredentialHash(ctx context.Context, domain, login string, hash []byte) error
	// DeleteCredential removes domain's login; ErrNotFound when none.
	DeleteCredential(ctx context.Context, domain, login string) error
	// DeleteCredentials removes every credential of domain except the
	// login keep (may be ""), and returns how many went.
	DeleteCredentials(ctx context.Context, domain, keep string) (int, error)
}

// Route is an inbound route (docs/mailgun-contract.md §6): account-level, kept in the
// region. Expression and Actions are kept as the user wrote them.
type Route struct {
	ID          string
	Priority    int
	Description string
	Expression  string
	Actions     []string
	CreatedAt   time.Time
	// AccountID owns the route: "" for the primary account, else a
	// subaccount's id. It never changes after CreateRoute.
	AccountID string
}

// RouteStore keeps routes. Lists come in evaluation order: priority
// ascending, then creation time, then id.
type RouteStore interface {
	CreateRoute(ctx context.Context, r Route) error
	// Route returns one route, ErrNotFound when none.
	Route(ctx context.Context, id string) (Route, error)
	// Routes returns a page of routes in evaluation order and the total.
	Routes(ctx context.Context, skip, limit int) (rs []Route, total int, err error)
	// AccountRoutes is Routes for the routes owned by account only.
	AccountRoutes(ctx context.Context, account string, skip, limit int) (rs []Route, total int, err error)
	// UpdateRoute stores every field but ID and CreatedAt; ErrNotFound when none.
	UpdateRoute(ctx context.Context, r Route) error
	// DeleteRoute removes a route; ErrNotFound when none.
	DeleteRoute(ctx context.Context, id string) error
}

// InboundMessage is a message the MX accepted, kept until every job that
// needs it is done.
type InboundMessage struct {
	Key        string
	Domain     string // the first recipient's domain
	Sender     string // MAIL FROM ("" for the null sender)
	Recipients []string
	Helo       string
	ClientIP   string
	TLS        bool
	Body       []byte
	ReceivedAt time.Time
	// LeaseOwner and LeaseUntil, when set, lease the first job at once to
	// the receiving node, which then runs it from memory without a claim.
	LeaseOwner string
	LeaseUntil time.Time
}

// Inbound job kinds.
const (
	InboundRoute   = "route"   // run the routes for a received message
	InboundPost    = "post"    // POST to a URL (forward or store notify)
	InboundForward = "forward" // re-send to addresses through the send path
)

// InboundJob is one piece of inbound work. Payload is JSON owned by
// package inbound.
type InboundJob struct {
	ID            int64
	Kind          string
	MessageKey    string
	Domain        string
	Payload       []byte
	Attempts      int // attempts started (incremented when claimed)
	NextAttemptAt time.Time
	LeaseUntil    time.Time
	CreatedAt     time.Time
	LastError     string
}

// InboundResult is what finishing one attempt of a job writes, in one
// transaction: the job removed (Done) or rescheduled, the jobs it leads
// to, stored copies of the message, events, and optionally a new body
// for the inbound message (authentication results added).
type InboundResult struct {
	JobID         int64
	MessageKey    string // the job's message
	Done          bool
	NextAttemptAt time.Time
	LastError     string
	Jobs          []InboundJob
	Stored        []Message
	Events        []Event
	Body          []byte
	// Returned are events of bounces and complaints that came back for
	// sent messages: counted in stats like delivery outcomes. Suppressions
	// are what they add, in the same transaction: a bounce unless its
	// address or domain is allowlisted, a complaint adding to its count.
	Returned     []Event
	Suppressions []Suppression
}

// InboundStore is the durable inbound queue.
type InboundStore interface {
	// ReceiveInbound stores m and its first job (kind route, leased as m
	// says) durably and returns the job's id. The message reads back
	// without its lease fields.
	ReceiveInbound(ctx context.Context, m InboundMessage) (jobID int64, err error)
	// InboundMessage returns a received message, ErrNotFound when gone.
	InboundMessage(ctx context.Context, key string) (InboundMessage, error)
	// ClaimInbound leases due inbound jobs like ClaimJobs (Skip is ignored).
	ClaimInbound(ctx context.Context, c Claim) ([]InboundJob, error)
	// FinishInbound records results. A message no job refers to any more
	// is removed in the same transaction.
	FinishInbound(ctx context.Context, results []InboundResult) error
	// ReleaseInbound gives leased jobs back without counting an attempt.
	ReleaseInbound(ctx context.Context, ids []int64, at time.Time) error
	// RenewInboundLeases extends the leases owner holds to until.
	RenewInboundLeases(ctx context.Context, owner string, until time.Time) error
	// NextInboundDue is the earliest next attempt among jobs not leased,
	// zero if none.
	NextInboundDue(ctx context.Context) (time.Time, error)
}
