package store

import (
	"context"
	"errors"
	"time"
)

// ErrLimit is returned when a write would pass a count limit the caller
// gave (templates per domain, versions per template). Nothing is written.
var ErrLimit = errors.New("store: limit reached")

// Template is a stored template of a domain (docs/mailgun-contract.md §13.2). Name is
// lower case and unique within the domain.
type Template struct {
	Domain      string
	Name        string
	ID          string
	Description string
	CreatedBy   string
	CreatedAt   time.Time
}

// TemplateVersion is one version of a template. Tag is unique within the
// template; at most one version of a template is Active.
type TemplateVersion struct {
	Domain    string
	Template  string
	Tag       string
	ID        string
	Engine    string
	Comment   string
	Content   string
	Headers   map[string]string // From, Subject, Reply-To
	Active    bool
	CreatedAt time.Time
}

// PivotQuery selects one page of a collection ordered by a unique key
// (template name, version tag, list or member address), the way Mailgun's
// page=first|next|previous|last&pivot=… links do. With Pivot empty it is the
// first page, or the last one when Backward; otherwise the page after (or,
// Backward, before) the pivot. Results always come back in ascending order.
type PivotQuery struct {
	Pivot    string
	Backward bool
	Limit    int
}

// TemplateStore is the regional store's part for templates.
type TemplateStore interface {
	// CreateTemplate stores t and, when first is not nil, its first
	// version (made active) in one transaction. ErrConflict when the name
	// exists, ErrLimit when the domain already has maxPerDomain templates.
	CreateTemplate(ctx context.Context, t Template, first *TemplateVersion, maxPerDomain int) error
	Template(ctx context.Context, domain, name string) (Template, error)
	Templates(ctx context.Context, domain string, q PivotQuery) ([]Template, error)
	// UpdateTemplateDescription changes a template's description.
	UpdateTemplateDescription(ctx context.Context, domain, name, description string) error
	// DeleteTemplate removes a template with its versions.
	DeleteTemplate(ctx context.Context, domain, name string) error
	// DeleteTemplates removes every template of the domain.
	DeleteTemplates(ctx context.Context, domain string) error

	// AddTemplateVersion stores v. It becomes active when v.Active is set
	// (the template's other versions are deactivated in the same
	// transaction) or when it is the template's first version.
	// ErrNotFound without the template, ErrConflict when the tag exists,
	// ErrLimit when the template already has maxPerTemplate versions.
	AddTemplateVersion(ctx context.Context, v TemplateVersion, maxPerTemplate int) error
	TemplateVersion(ctx context.Context, domain, name, tag string) (TemplateVersion, error)
	// ActiveTemplateVersion is the active version; ErrNotFound when the
	// template has none (or does not exist).
	ActiveTemplateVersion(ctx context.Context, domain, name string) (TemplateVersion, error)
	TemplateVersions(ctx context.Context, domain, name string, q PivotQuery) ([]TemplateVersion, error)
	// UpdateTemplateVersion stores v's Comment, Content, Headers and, when
	// v.Active, makes it the active version.
	UpdateTemplateVersion(ctx context.Context, v TemplateVersion) error
	DeleteTemplateVersion(ctx context.Context, domain, name, tag string) error
}
