// Package templates stores a domain's Mailgun templates and their versions
// (docs/mailgun-contract.md §13.2) and renders them for sends.
//
// Invariants: template names are lower case; a template has at most one
// active version, its first version becomes active, and activating a
// version deactivates the others in the same transaction (the store does
// that). Content is checked to be valid Handlebars and at most MaxBytes
// when stored, so a send never meets a template that cannot parse. Limits
// (templates per domain, versions per template) are enforced by the store
// inside the writing transaction.
//
// Failure rules: every client mistake is a *fault.Error with a clear text —
// Invalid for bad input and limits, NotFound "template not found" / "version not
// found", Conflict for a name or tag that exists. Nothing is written when a
// request fails.
package templates

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// Limits are Mailgun's template limits.
type Limits struct {
	MaxTemplates int // per domain
	MaxVersions  int // per template
	MaxBytes     int // per version's content
}

// DefaultLimits are Mailgun's: 100 templates a domain, 40 versions a
// template, 100 KB a template.
var DefaultLimits = Limits{MaxTemplates: 100, MaxVersions: 40, MaxBytes: 100 * 1024}

// Service manages templates.
type Service struct {
	Store  store.TemplateStore
	Now    func() time.Time
	Limits Limits
}

// Errors with Mailgun's texts.
var (
	ErrTemplateNotFound = fault.NotFoundf("template not found")
	ErrVersionNotFound  = fault.NotFoundf("version not found")
)

// VersionInput is a version to store; Headers is the raw JSON object of
// the `headers` parameter ("" for none).
type VersionInput struct {
	Tag, Engine, Comment, Content, Headers string
	Active                                 bool
}

// Created is a template with the version just written (nil for none).
type Created struct {
	Template store.Template
	Version  *store.TemplateVersion
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Second) }

// NormalizeName lower-cases a template name and checks it.
func NormalizeName(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", fault.Invalidf("Missing mandatory parameter: name")
	}
	if len(name) > 255 || strings.ContainsAny(name, " \t\r\n/\\?#%") {
		return "", fault.Invalidf("template name %q is not valid: use at most 255 characters without spaces, slashes, '?', '#' or '%%'", name)
	}
	return name, nil
}

func checkTag(tag string) error {
	if tag == "" || len(tag) > 255 {
		return fault.Invalidf("version tag must be 1 to 255 characters")
	}
	for _, r := range tag {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_~", r)) {
			return fault.Invalidf("version tag %q is not valid: use letters, digits and . - _ ~", tag)
		}
	}
	return nil
}

// headerNames are the headers a template version may carry, canonical.
var headerNames = map[string]string{"from": "From", "subject": "Subject", "reply-to": "Reply-To"}

// ParseHeaders reads the `headers` parameter: a JSON object whose keys are
// From, Subject and Reply-To (any case) with string values.
func ParseHeaders(raw string) (map[string]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, fault.Invalidf("'headers' parameter must be a JSON object")
	}
	out := map[string]string{}
	for k, v := range in {
		name, ok := headerNames[strings.ToLower(k)]
		if !ok {
			return nil, fault.Invalidf("'headers' may hold only From, Subject and Reply-To, not %q", k)
		}
		s, ok := v.(string)
		if !ok {
			return nil, fault.Invalidf("'headers' value of %s must be a string", name)
		}
		out[name] = s
	}
	return out, nil
}

// version checks in and builds the version to store.
func (s *Service) version(domain, name string, in VersionInput) (store.TemplateVersion, error) {
	engine := strings.ToLower(in.Engine)
	if engine == "" {
		engine = "handlebars"
	}
	if engine != "handlebars" {
		return store.TemplateVersion{}, fault.Invalidf("engine %q is not supported: Salvo renders handlebars templates", in.Engine)
	}
	if err := checkTag(in.Tag); err != nil {
		return store.TemplateVersion{}, err
	}
	if err := s.checkContent(in.Content); err != nil {
		return store.TemplateVersion{}, err
	}
	headers, err := ParseHeaders(in.Headers)
	if err != nil {
		return store.TemplateVersion{}, err
	}
	return store.TemplateVersion{Domain: domain, Template: name, Tag: in.Tag, ID: secret.Token(12), Engine: engine,
		Comment: in.Comment, Content: in.Content, Headers: headers, Active: in.Active, CreatedAt: s.now()}, nil
}

func (s *Service) checkContent(content string) error {
	if s.Limits.MaxBytes > 0 && len(content) > s.Limits.MaxBytes {
		return fault.Invalidf("template content is %d bytes; the limit is %d bytes (100 KB)", len(content), s.Limits.MaxBytes)
	}
	return Check(content)
}

// Create stores a template and, when v is not nil, its first version.
func (s *Service) Create(ctx context.Context, domain, name, description, createdBy string, v *VersionInput) (Created, error) {
	name, err := NormalizeName(name)
	if err != nil {
		return Created{}, err
	}
	t := store.Template{Domain: domain, Name: name, ID: secret.Token(12), Description: description,
		CreatedBy: createdBy, CreatedAt: s.now()}
	var first *store.TemplateVersion
	if v != nil {
		fv, err := s.version(domain, name, *v)
		if err != nil {
			return Created{}, err
		}
		fv.Active = true
		first = &fv
	}
	err = s.Store.CreateTemplate(ctx, t, first, s.Limits.MaxTemplates)
	switch {
	case errors.Is(err, store.ErrConflict):
		return Created{}, fault.Conflictf("template %s already exists", name)
	case errors.Is(err, store.ErrLimit):
		return Created{}, fault.Invalidf("templates limit reached: a domain holds at most %d templates", s.Limits.MaxTemplates)
	case err != nil:
		return Created{}, err
	}
	return Created{Template: t, Version: first}, nil
}

// Get returns a template and, with active, its active version (nil when
// it has none).
func (s *Service) Get(ctx context.Context, domain, name string, active bool) (Created, error) {
	t, err := s.Store.Template(ctx, domain, strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) {
		return Created{}, ErrTemplateNotFound
	} else if err != nil {
		return Created{}, err
	}
	out := Created{Template: t}
	if active {
		v, err := s.Store.ActiveTemplateVersion(ctx, domain, t.Name)
		if err == nil {
			out.Version = &v
		} else if !errors.Is(err, store.ErrNotFound) {
			return Created{}, err
		}
	}
	return out, nil
}

// List returns a page of templates, each with its active version when
// active is set.
func (s *Service) List(ctx context.Context, domain string, q store.PivotQuery, active bool) ([]Created, error) {
	ts, err := s.Store.Templates(ctx, domain, q)
	if err != nil {
		return nil, err
	}
	out := make([]Created, 0, len(ts))
	for _, t := range ts {
		c := Created{Template: t}
		if active {
			if v, err := s.Store.ActiveTemplateVersion(ctx, domain, t.Name); err == nil {
				c.Version = &v
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// UpdateDescription changes a template's description.
func (s *Service) UpdateDescription(ctx context.Context, domain, name, description string) error {
	return notFoundAs(s.Store.UpdateTemplateDescription(ctx, domain, strings.ToLower(name), description), ErrTemplateNotFound)
}

// Delete removes a template and its versions.
func (s *Service) Delete(ctx context.Context, domain, name string) error {
	return notFoundAs(s.Store.DeleteTemplate(ctx, domain, strings.ToLower(name)), ErrTemplateNotFound)
}

// DeleteAll removes every template of the domain.
func (s *Service) DeleteAll(ctx context.Context, domain string) error {
	return s.Store.DeleteTemplates(ctx, domain)
}

func notFoundAs(err error, as *fault.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return as
	}
	return err
}

// AddVersion stores a new version of a template.
func (s *Service) AddVersion(ctx context.Context, domain, name string, in VersionInput) (Created, error) {
	t, err := s.Get(ctx, domain, name, false)
	if err != nil {
		return Created{}, err
	}
	v, err := s.version(domain, t.Template.Name, in)
	if err != nil {
		return Created{}, err
	}
	if err := s.addVersion(ctx, v); err != nil {
		return Created{}, err
	}
	stored, err := s.Store.TemplateVersion(ctx, domain, t.Template.Name, v.Tag)
	if err != nil {
		return Created{}, err
	}
	t.Version = &stored
	return t, nil
}

func (s *Service) addVersion(ctx context.Context, v store.TemplateVersion) error {
	err := s.Store.AddTemplateVersion(ctx, v, s.Limits.MaxVersions)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrTemplateNotFound
	case errors.Is(err, store.ErrConflict):
		return fault.Conflictf("version %s already exists", v.Tag)
	case errors.Is(err, store.ErrLimit):
		return fault.Invalidf("versions limit reached: a template holds at most %d versions", s.Limits.MaxVersions)
	}
	return err
}

// Version returns one version of a template.
func (s *Service) Version(ctx context.Context, domain, name, tag string) (Created, error) {
	t, err := s.Get(ctx, domain, name, false)
	if err != nil {
		return Created{}, err
	}
	v, err := s.Store.TemplateVersion(ctx, domain, t.Template.Name, tag)
	if err != nil {
		return Created{}, notFoundAs(err, ErrVersionNotFound)
	}
	t.Version = &v
	return t, nil
}

// Versions returns a page of a template's versions.
func (s *Service) Versions(ctx context.Context, domain, name string, q store.PivotQuery) (store.Template, []store.TemplateVersion, error) {
	t, err := s.Get(ctx, domain, name, false)
	if err != nil {
		return store.Template{}, nil, err
	}
	vs, err := s.Store.TemplateVersions(ctx, domain, t.Template.Name, q)
	return t.Template, vs, err
}

// VersionUpdate is a partial update of a version; nil fields stay.
type VersionUpdate struct {
	Comment, Content, Headers *string
	Active                    bool
}

// UpdateVersion changes a version's comment, content or headers, or makes
// it the active one.
func (s *Service) UpdateVersion(ctx context.Context, domain, name, tag string, u VersionUpdate) (Created, error) {
	c, err := s.Version(ctx, domain, name, tag)
	if err != nil {
		return Created{}, err
	}
	v := *c.Version
	if u.Comment != nil {
		v.Comment = *u.Comment
	}
	if u.Content != nil {
		if err := s.checkContent(*u.Content); err != nil {
			return Created{}, err
		}
		v.Content = *u.Content
	}
	if u.Headers != nil {
		if v.Headers, err = ParseHeaders(*u.Headers); err != nil {
			return Created{}, err
		}
	}
	v.Active = u.Active
	if err := s.Store.UpdateTemplateVersion(ctx, v); err != nil {
		return Created{}, notFoundAs(err, ErrVersionNotFound)
	}
	return s.Version(ctx, domain, name, tag)
}

// DeleteVersion removes one version.
func (s *Service) DeleteVersion(ctx context.Context, domain, name, tag string) error {
	if _, err := s.Get(ctx, domain, name, false); err != nil {
		return err
	}
	return notFoundAs(s.Store.DeleteTemplateVersion(ctx, domain, strings.ToLower(name), tag), ErrVersionNotFound)
}

// CopyVersion stores a copy of version tag as newTag (not active), with
// comment when given.
func (s *Service) CopyVersion(ctx context.Context, domain, name, tag, newTag string, comment *string) (store.TemplateVersion, error) {
	c, err := s.Version(ctx, domain, name, tag)
	if err != nil {
		return store.TemplateVersion{}, err
	}
	if err := checkTag(newTag); err != nil {
		return store.TemplateVersion{}, err
	}
	v := *c.Version
	v.Tag, v.ID, v.Active, v.CreatedAt = newTag, secret.Token(12), false, s.now()
	if comment != nil {
		v.Comment = *comment
	}
	if err := s.addVersion(ctx, v); err != nil {
		return store.TemplateVersion{}, err
	}
	return s.Store.TemplateVersion(ctx, domain, v.Template, newTag)
}
