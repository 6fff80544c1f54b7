package templates

import (
	"context"
	"errors"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// Rendered is a stored template rendered for one send.
type Rendered struct {
	HTML string
	// Text is the text version (when asked for with t:text=yes).
	Text string
	// Headers are the version's From, Subject and Reply-To, rendered with
	// the same variables; a send uses each only when it lacks its own.
	Headers map[string]string
}

// RenderFor renders template name of domain for a send: version tag, or
// the active version when tag is empty, with vars. A missing template or
// version is a 400 naming it (a send is a bad request, not a missing
// resource).
func (s *Service) RenderFor(ctx context.Context, domain, name, tag string, vars map[string]any, text bool) (Rendered, error) {
	name, err := NormalizeName(name)
	if err != nil {
		return Rendered{}, err
	}
	var v store.TemplateVersion
	if tag == "" {
		v, err = s.Store.ActiveTemplateVersion(ctx, domain, name)
	} else {
		v, err = s.Store.TemplateVersion(ctx, domain, name, tag)
	}
	if errors.Is(err, store.ErrNotFound) {
		if _, terr := s.Store.Template(ctx, domain, name); errors.Is(terr, store.ErrNotFound) {
			return Rendered{}, fault.Invalidf("template %s not found", name)
		}
		if tag == "" {
			return Rendered{}, fault.Invalidf("template %s has no active version", name)
		}
		return Rendered{}, fault.Invalidf("version %s of template %s not found", tag, name)
	} else if err != nil {
		return Rendered{}, err
	}
	out := Rendered{Headers: map[string]string{}}
	if out.HTML, err = Render(v.Content, vars); err != nil {
		return Rendered{}, err
	}
	if text {
		out.Text = Text(out.HTML)
	}
	for k, h := range v.Headers {
		if out.Headers[k], err = Render(h, vars); err != nil {
			return Rendered{}, err
		}
	}
	return out, nil
}
