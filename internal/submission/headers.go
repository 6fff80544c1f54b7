package submission

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

// The X-Mailgun-* headers the relay honours (docs/mailgun-contract.md §12.2), lower case.
// Each is the twin of an HTTP o:/v: parameter; all are removed from the
// message before it is accepted.
const (
	hTag             = "x-mailgun-tag"
	hDKIM            = "x-mailgun-dkim"
	hDeliverBy       = "x-mailgun-deliver-by"
	hDropMessage     = "x-mailgun-drop-message"
	hTrack           = "x-mailgun-track"
	hTrackClicks     = "x-mailgun-track-clicks"
	hTrackOpens      = "x-mailgun-track-opens"
	hSendingIP       = "x-mailgun-sending-ip"
	hSendingIPPool   = "x-mailgun-sending-ip-pool"
	hRequireTLS      = "x-mailgun-require-tls"
	hSkipVerify      = "x-mailgun-skip-verification"
	hRecipientVars   = "x-mailgun-recipient-variables"
	hVariables       = "x-mailgun-variables"
	hSTOPeriod       = "x-mailgun-delivery-time-optimize-period"
	hTZLocalize      = "x-mailgun-time-zone-localize"
	hTemplateName    = "x-mailgun-template-name"
	hTemplateVersion = "x-mailgun-template-version"
	hTemplateVars    = "x-mailgun-template-variables"
)

// ignored headers are accepted and removed, like their HTTP twins (this
// server has no send-time optimisation).
var ignored = map[string]bool{hSTOPeriod: true, hTZLocalize: true}

// mailgunHeaders is what a submitted message's X-Mailgun-* headers say.
type mailgunHeaders struct {
	raw          []byte // the message without them
	options      send.Options
	tags         []string
	vars         map[string]string
	recipientVar map[string]map[string]any
	// template is the stored template of X-Mailgun-Template-Name (nil
	// without one), with its version and data.
	template  *send.TemplateRef
	tmplVars  map[string]any
	tmplGiven []string // template headers seen, for the error without a name
}

// headerError is a refused header: 550 5.6.0 with its text.
func headerError(format string, args ...any) error {
	return fault.Invalidf(format, args...)
}

// readMailgunHeaders unwraps a multipart/mailgun-variables container and
// applies then removes the X-Mailgun-* headers of raw.
func readMailgunHeaders(raw []byte, d store.Domain) (*mailgunHeaders, error) {
	out := &mailgunHeaders{options: send.Options{DKIM: true, RequireTLS: d.RequireTLS, SkipVerification: d.SkipVerification},
		vars: map[string]string{}}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, headerError("message headers cannot be read: %v", err)
	}
	if ct, _, _ := (&message.Header{Header: h}).ContentType(); ct == "multipart/mailgun-variables" {
		if raw, out.recipientVar, err = unwrapVariables(raw); err != nil {
			return nil, err
		}
		if h, err = textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err != nil {
			return nil, headerError("the message inside multipart/mailgun-variables has unreadable headers: %v", err)
		}
	}
	var consumed []string
	var tags []string
	fields := h.Fields()
	for fields.Next() {
		name := strings.ToLower(fields.Key())
		if !strings.HasPrefix(name, "x-mailgun-") {
			continue
		}
		value, err := mail.DecodeWords(strings.TrimSpace(fields.Value()))
		if err != nil {
			return nil, headerError("%s: %v", canonical(name), err)
		}
		known, err := out.apply(name, value, &tags)
		if err != nil {
			return nil, err
		}
		if known {
			consumed = append(consumed, name)
		}
	}
	if err := out.templateRef(); err != nil {
		return nil, err
	}
	out.tags = send.NormalizeTags(tags)
	for _, name := range consumed {
		raw = mail.RemoveHeader(raw, name)
	}
	out.raw = raw
	return out, nil
}

// apply takes one header into out; it reports whether the header is one
// the relay knows (and so removes).
func (out *mailgunHeaders) apply(name, value string, tags *[]string) (bool, error) {
	o := &out.options
	switch name {
	case hTag:
		*tags = append(*tags, value)
	case hDKIM, hDropMessage, hRequireTLS, hSkipVerify:
		b, ok := mgapi.ParseBool(value)
		if !ok {
			return false, headerError("%s must be yes or no, not %q", canonical(name), value)
		}
		*map[string]*bool{hDKIM: &o.DKIM, hDropMessage: &o.TestMode, hRequireTLS: &o.RequireTLS, hSkipVerify: &o.SkipVerification}[name] = b
	case hTrack, hTrackOpens:
		b, ok := mgapi.ParseBool(value)
		if !ok {
			return false, headerError("%s must be yes or no, not %q", canonical(name), value)
		}
		if name == hTrack {
			o.Tracking = &b
		} else {
			o.TrackingOpens = &b
		}
	case hTrackClicks:
		v := strings.ToLower(value)
		if b, ok := mgapi.ParseBool(v); ok {
			v = map[bool]string{true: "yes", false: "no"}[b]
		} else if v != "htmlonly" {
			return false, headerError("%s must be yes, no or htmlonly, not %q", canonical(name), value)
		}
		o.TrackingClicks = v
	case hSendingIP:
		o.SendingIP = value // checked by package send (a 400 when not ours)
	case hSendingIPPool:
		o.SendingIPPool = value
	case hDeliverBy:
		t, err := mgapi.ParseDate(value)
		if err != nil {
			return false, headerError("%s: %v", canonical(name), err)
		}
		o.DeliveryTime = t.Unix()
	case hRecipientVars:
		rv, err := send.ParseRecipientVariables(value)
		if err != nil {
			return false, headerError("%s is not a JSON object of objects", canonical(name))
		}
		out.recipientVar = rv
	case hVariables:
		if err := mergeVariables(out.vars, value); err != nil {
			return false, err
		}
	case hTemplateName, hTemplateVersion:
		if out.template == nil {
			out.template = &send.TemplateRef{}
		}
		if name == hTemplateName {
			out.template.Name = value
		} else {
			out.template.Version = value
		}
		out.tmplGiven = append(out.tmplGiven, canonical(name))
	case hTemplateVars:
		var tv map[string]any
		if err := json.Unmarshal([]byte(value), &tv); err != nil || tv == nil {
			return false, headerError("%s is not a JSON object", canonical(name))
		}
		if out.tmplVars == nil {
			out.tmplVars = map[string]any{}
		}
		for k, v := range tv {
			out.tmplVars[k] = v
		}
		out.tmplGiven = append(out.tmplGiven, canonical(name))
	default:
		return ignored[name], nil
	}
	return true, nil
}

// mergeVariables adds one X-Mailgun-Variables JSON object to vars (several
// headers are merged). String values are kept as they are, others as JSON.
func mergeVariables(vars map[string]string, value string) error {
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(value), &in); err != nil {
		return headerError("X-Mailgun-Variables is not a JSON object: %v", err)
	}
	for k, v := range in {
		var s string
		if json.Unmarshal(v, &s) == nil {
			vars[k] = s
		} else {
			vars[k] = string(v)
		}
	}
	return nil
}

// unwrapVariables reads the multipart/mailgun-variables container: a JSON
// part with the recipient variables, then the real message (docs/mailgun-contract.md
// docs/mailgun-contract.md §12.2). It returns the inner message.
func unwrapVariables(raw []byte) ([]byte, map[string]map[string]any, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, nil, headerError("multipart/mailgun-variables cannot be read: %v", err)
	}
	mr := e.MultipartReader()
	var rv map[string]map[string]any
	var inner []byte
	for mr != nil {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, headerError("multipart/mailgun-variables cannot be read: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			return nil, nil, headerError("multipart/mailgun-variables part cannot be read: %v", err)
		}
		switch ct, _, _ := p.Header.ContentType(); {
		case ct == "application/json" && rv == nil:
			if rv, err = send.ParseRecipientVariables(string(body)); err != nil {
				return nil, nil, headerError("the JSON part of multipart/mailgun-variables is not an object of objects")
			}
		case ct == "message/rfc822" && inner == nil:
			inner = body
		}
	}
	if inner == nil {
		return nil, nil, headerError("multipart/mailgun-variables has no message/rfc822 part")
	}
	return inner, rv, nil
}

// canonical is a header name as Mailgun writes it (X-Mailgun-Track-Clicks).
func canonical(name string) string {
	parts := strings.Split(name, "-")
	for i, p := range parts {
		if p == "ip" || p == "tls" {
			parts[i] = strings.ToUpper(p)
		} else if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// templateRef completes the template of the X-Mailgun-Template-* headers
// (docs/mailgun-contract.md §12.2: the SMTP twins of template, t:version and
// t:variables). Its data are the X-Mailgun-Variables values overridden by
// X-Mailgun-Template-Variables, as on the HTTP API.
func (out *mailgunHeaders) templateRef() error {
	if len(out.tmplGiven) == 0 {
		return nil
	}
	if out.template == nil || strings.TrimSpace(out.template.Name) == "" {
		return headerError("%s needs X-Mailgun-Template-Name", out.tmplGiven[0])
	}
	data := map[string]any{}
	for k, v := range out.vars {
		data[k] = msgmeta.DecodeVar(v)
	}
	for k, v := range out.tmplVars {
		data[k] = v
	}
	out.template.Name = strings.TrimSpace(out.template.Name)
	out.template.Version = strings.TrimSpace(out.template.Version)
	out.template.Variables = data
	return nil
}
