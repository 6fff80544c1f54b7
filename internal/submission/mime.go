package submission

import (
	"bufio"
	"bytes"

	"github.com/emersion/go-message/textproto"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

// MailgunHeaders is what the X-Mailgun-* headers of a ready message ask
// for; HTTP /messages.mime reads them as the relay does (docs/mailgun-contract.md §2.3:
// template variables of a MIME upload may come in
// X-Mailgun-Template-Variables; docs/mailgun-contract.md §12.2 for the others).
type MailgunHeaders struct {
	Raw          []byte // the message without the headers read
	Options      send.Options
	Tags         []string
	Vars         map[string]string
	RecipientVar map[string]map[string]any
	Template     *send.TemplateRef
}

// ReadMailgunHeaders unwraps a multipart/mailgun-variables container,
// decodes (RFC 2047) and applies the X-Mailgun-* headers of raw and
// removes them. A header with a bad value is a 400 *fault.Error naming it;
// a message whose header cannot be read is a 400 in the words of the
// send path's own check.
func ReadMailgunHeaders(raw []byte, d store.Domain) (MailgunHeaders, error) {
	if _, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err != nil {
		return MailgunHeaders{}, fault.Invalidf("message is not a valid MIME message: %v", err)
	}
	h, err := readMailgunHeaders(raw, d)
	if err != nil {
		return MailgunHeaders{}, err
	}
	return MailgunHeaders{Raw: h.raw, Options: h.options, Tags: h.tags, Vars: h.vars,
		RecipientVar: h.recipientVar, Template: h.template}, nil
}
