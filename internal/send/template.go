package send

import (
	"context"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
)

// TemplateRef names a stored template to send with (docs/mailgun-contract.md §2.2).
type TemplateRef struct {
	Name    string
	Version string // t:version; "" for the active version
	Text    bool   // t:text=yes: also a text part rendered from the template
	// Variables are the Handlebars data: v:* values and
	// X-Mailgun-Variables, overridden by t:variables (the caller merges).
	Variables map[string]any
}

// applyTemplate renders sub.Template into sub's HTML and, with t:text, its
// text part, and fills From, Subject and Reply-To from the template's
// headers where sub lacks them. It is rendered once for the whole
// message: per-recipient data reaches a template only through
// %recipient…% placeholders, filled at delivery, so the body is still
// stored once however many recipients there are.
func (s *Service) applyTemplate(ctx context.Context, sub *Submission) error {
	ref := sub.Template
	if ref == nil {
		return nil
	}
	if s.Templates == nil {
		return fault.Invalidf("sending with a stored template is not available on this node")
	}
	r, err := s.Templates.RenderFor(ctx, sub.Domain.Name, ref.Name, ref.Version, ref.Variables, ref.Text)
	if err != nil {
		return err
	}
	if sub.MIME != nil {
		return s.templateMIME(sub, r.HTML, r.Text, r.Headers)
	}
	sub.HTML = r.HTML
	if ref.Text {
		sub.Text = r.Text
	}
	if sub.From == "" {
		sub.From = r.Headers["From"]
	}
	if sub.Subject == "" {
		sub.Subject = r.Headers["Subject"]
	}
	if rt := r.Headers["Reply-To"]; rt != "" && !hasHeader(sub.Headers, "Reply-To") {
		sub.Headers = append(sub.Headers, mail.Header{Name: "Reply-To", Value: rt})
	}
	return checkFields(sub)
}

// checkFields refuses a template send that still lacks From or Subject
// once the template's headers were applied.
func checkFields(sub *Submission) error {
	if strings.TrimSpace(sub.From) == "" {
		return fault.Invalidf("from parameter is missing")
	}
	if strings.TrimSpace(sub.Subject) == "" {
		return fault.Invalidf("subject parameter is missing")
	}
	return nil
}

// templateMIME renders a template into a /messages.mime submission: the
// uploaded message keeps its header (From, To, Subject, …) and its body
// becomes the rendered HTML, with a text alternative when t:text asks for
// one (docs/mailgun-contract.md §2.3: the same t: options apply to MIME sends).
func (s *Service) templateMIME(sub *Submission, html, text string, headers map[string]string) error {
	raw, err := mail.ReplaceBody(sub.MIME, html, text, headers)
	if err != nil {
		return fault.Invalidf("message is not a valid MIME message: %v", err)
	}
	sub.MIME = raw
	return nil
}

func hasHeader(hs []mail.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}
