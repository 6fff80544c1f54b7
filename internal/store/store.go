// Package store defines Salvo's persisted records and the interfaces of its
// two stores.
//
// The global store holds what the seed calls global data: the account, its
// users, API keys and domain names with the region each belongs to. The
// regional store holds everything else (domain metadata such as DKIM keys
// and SMTP credentials, messages, events, suppressions, …) and a node only
// ever writes its own region's. Each interface has one SQL implementation
// (package sqlstore) running on SQLite (embedded default) or PostgreSQL, and
// storetest is the behaviour suite both must pass.
//
// Failure rules: a missing record is ErrNotFound, a uniqueness clash is
// ErrConflict; callers map those to 404 and 409 (or a better Mailgun text).
// Secrets never reach a store in plaintext: API keys arrive hashed, and what
// must be revealable later arrives sealed (package secret).
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every implementation returns (wrapped or not).
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
	// ErrLastUser refuses to delete the only dashboard user: nobody could
	// log in after it.
	ErrLastUser = errors.New("store: the last user")
)

// Account is the one account of an installation.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Subaccount states (docs/mailgun-contract.md §13.4). Salvo has no "closed" state.
const (
	SubaccountOpen     = "open"
	SubaccountDisabled = "disabled"
)

// Subaccount is a tenant of the installation's account, its parent. Its
// ID is the account id its keys, domain names and regional rows carry.
type Subaccount struct {
	ID        string
	Name      string
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SubaccountFilter narrows Subaccounts; an empty Status matches all.
type SubaccountFilter struct {
	Status string
	// Name keeps subaccounts whose name contains it (case-insensitive).
	Name string
	Desc bool // newest first (default: oldest first)
}

// SubaccountStore keeps subaccounts (global data).
type SubaccountStore interface {
	// CreateSubaccount stores s; ErrConflict when its id exists.
	CreateSubaccount(ctx context.Context, s Subaccount) error
	// Subaccount returns one subaccount, ErrNotFound when none.
	Subaccount(ctx context.Context, id string) (Subaccount, error)
	// Subaccounts returns a page in creation order and the total matching f.
	Subaccounts(ctx context.Context, f SubaccountFilter, skip, limit int) ([]Subaccount, int, error)
	// SetSubaccountStatus changes the status; ErrNotFound when none.
	SetSubaccountStatus(ctx context.Context, id, status string, now time.Time) (Subaccount, error)
}

// Key kinds and roles (docs/mailgun-contract.md §1.2).
const (
	KindUser   = "user"
	KindDomain = "domain"
	KindWeb    = "web"

	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleBasic     = "basic"
	RoleSupport   = "support"
	RoleSending   = "sending"
)

// Key is an API key. Only its SHA-256 hash is stored; the primary key also
// keeps a sealed copy so the dashboard can reveal it.
type Key struct {
	ID             string
	AccountID      string
	Kind           string
	Role           string
	DomainName     string // for Kind == KindDomain
	Description    string
	Hash           []byte
	Sealed         []byte // primary key only
	Primary        bool
	Requestor      string
	UserName       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time // zero: never
	Disabled       bool
	DisabledReason string
}

// KeyFilter narrows Keys; empty fields match everything.
type KeyFilter struct {
	Kind       string
	DomainName string
	AccountID  string // the account's own keys only
}

// DomainName is the global part of a domain: its name is unique across
// regions and says which region holds the rest.
type DomainName struct {
	Name      string
	ID        string
	AccountID string
	Region    string
	CreatedAt time.Time
}

// Global is the global store.
type Global interface {
	UsageStore
	SubaccountStore

	UserStore
	// Bootstrap creates acct and its primary key when the store has no
	// account yet, atomically. created is false when an account already
	// existed (another process may have won the race); nothing is written
	// then.
	Bootstrap(ctx context.Context, acct Account, primary Key) (created bool, err error)
	// Account returns the installation's account, ErrNotFound before Bootstrap.
	Account(ctx context.Context) (Account, error)

	// Meta returns a named setting, ErrNotFound when unset.
	Meta(ctx context.Context, name string) (string, error)
	// PutMetaIfAbsent stores value unless name is set, and returns the value
	// that is stored afterwards.
	PutMetaIfAbsent(ctx context.Context, name, value string) (string, error)
	// PutMeta stores value, replacing any previous one.
	PutMeta(ctx context.Context, name, value string) error

	CreateKey(ctx context.Context, k Key) error
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	Key(ctx context.Context, id string) (Key, error)
	Keys(ctx context.Context, f KeyFilter) ([]Key, error)
	CountKeys(ctx context.Context) (int, error)
	DeleteKey(ctx context.Context, id string) error
	// ReplacePrimaryKey swaps the primary key for k in one transaction.
	ReplacePrimaryKey(ctx context.Context, k Key) error

	// ReserveDomain claims a domain name for a region; ErrConflict when any
	// region has it.
	ReserveDomain(ctx context.Context, d DomainName) error
	DomainName(ctx context.Context, name string) (DomainName, error)
	// ReleaseDomain removes the name and every sending key of the domain.
	ReleaseDomain(ctx context.Context, name string) error

	Close() error
}

// Domain states.
const (
	DomainUnverified = "unverified"
	DomainActive     = "active"
	DomainDisabled   = "disabled"
)

// Domain is a domain's region-bound metadata.
type Domain struct {
	ID   string
	Name string
	// AccountID owns the domain and everything scoped by it: "" for the
	// installation's primary account, else a subaccount's id. It never
	// changes after CreateDomain.
	AccountID                  string
	State                      string
	Type                       string
	SpamAction                 string
	Wildcard                   bool
	RequireTLS                 bool
	SkipVerification           bool
	WebScheme                  string
	WebPrefix                  string
	DKIMSelector               string
	DKIMKeyBits                int
	DKIMPrivate                []byte // sealed PEM
	DKIMPublic                 string // base64 DER, the DNS p= value
	ForceDKIMAuthority         bool
	UseAutomaticSenderSecurity bool
	EncryptIncomingMessage     bool
	MessageTTL                 int // seconds
	ArchiveTo                  string
	IPs                        string
	PoolID                     string
	MailFromHost               string
	DNSChecks                  []DNSCheck
	Tracking                   Tracking
	CreatedAt                  time.Time
	UpdatedAt                  time.Time
}

// Tracking is a domain's open, click and unsubscribe tracking settings
// (docs/mailgun-contract.md §9).
type Tracking struct {
	Click         bool
	ClickHTMLOnly bool // rewrite links of the HTML part only (Click is set too)
	Open          bool
	OpenTop       bool // the pixel goes at the top of the HTML (place_at_the_top)
	Unsubscribe   bool
	HTMLFooter    string
	TextFooter    string
}

// Mailgun's default unsubscribe footers.
const (
	DefaultHTMLFooter = "\n<br>\n<p><a href=\"%unsubscribe_url%\">unsubscribe</a></p>\n"
	DefaultTextFooter = "\n\nTo unsubscribe click: <%unsubscribe_url%>\n\n"
)

// DefaultTracking is a new domain's tracking: everything off, Mailgun's
// footers.
func DefaultTracking() Tracking {
	return Tracking{HTMLFooter: DefaultHTMLFooter, TextFooter: DefaultTextFooter}
}

// DNSCheck is the result of the last verification of one DNS record.
type DNSCheck struct {
	Record string   `json:"record"` // spf, dkim, tracking, mx
	Name   string   `json:"name"`
	Value  string   `json:"value"`
	Valid  string   `json:"valid"` // valid, invalid, unknown
	Cached []string `json:"cached"`
	// CheckedAt is when the record was looked up (zero before any check).
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Credential is an SMTP login of a domain; Hash is a bcrypt hash.
type Credential struct {
	Domain    string
	Login     string // full address, lower case
	Hash      []byte
	CreatedAt time.Time
}

// Regional is a region's store.
type Regional interface {
	MessageStore
	WebhookStore
	SuppressionStore
	StatsStore
	SMTPStore
	TemplateStore
	ListStore
	IPPoolStore
	ExportStore
	EnvelopeStore

	// CreateDomain stores d and, when postmaster is not nil, its first SMTP
	// credential in one transaction. ErrConflict when the name exists.
	CreateDomain(ctx context.Context, d Domain, postmaster *Credential) error
	Domain(ctx context.Context, name string) (Domain, error)
	// Domains lists every account's domains by name; total counts them all.
	Domains(ctx context.Context, skip, limit int) (ds []Domain, total int, err error)
	// AccountDomains lists the domains owned by account ("": the primary
	// account) by name; total counts them.
	AccountDomains(ctx context.Context, account string, skip, limit int) (ds []Domain, total int, err error)
	// UpdateDomain stores every field of d but ID, CreatedAt and AccountID, which never
	// change, in the domain named d.Name; ErrNotFound when there is none.
	UpdateDomain(ctx context.Context, d Domain) error
	// DeleteDomain removes the domain and every region-bound record about it.
	DeleteDomain(ctx context.Context, name string) error

	Close() error
}
