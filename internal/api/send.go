package api

import (
	"context"
	"io"
	"mime/multipart"
	"sort"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/submission"
)

// sendParams are the parameters of /messages (docs/mailgun-contract.md §2.2); o:, h:, v:
// and t: are checked one by one.
var sendParams = []string{"from", "to", "cc", "bcc", "subject", "text", "html", "amp-html", "attachment",
	"inline", "template", "recipient-variables", "o:*", "h:*", "v:*", "t:*"}

// knownOptions are the o: options Mailgun documents. Those not listed in
// parseOptions are accepted and ignored (send-time optimisation,
// secondary DKIM, campaigns); any other o: option is ignored
// too and named in the response's X-Salvo-Ignored-Params header.
var knownOptions = map[string]bool{
	"o:tag": true, "o:dkim": true, "o:deliverytime": true, "o:testmode": true, "o:tracking": true,
	"o:tracking-clicks": true, "o:tracking-opens": true, "o:tracking-pixel-location-top": true,
	"o:require-tls": true, "o:skip-verification": true, "o:suppress-headers": true, "o:archive-to": true,
	"o:sending-ip": true, "o:sending-ip-pool": true, "o:native-send": true, "o:campaign": true,
	"o:deliver-within": true, "o:deliverytime-optimize-period": true, "o:time-zone-localize": true,
	"o:secondary-dkim": true, "o:secondary-dkim-public": true,
}

// maxOptionsBytes is Mailgun's limit on all o:, h:, v: and t: values.
const maxOptionsBytes = 16 * 1024

func (s *Server) sendMessage(c *Ctx) (any, error) {
	p := c.P
	p.Accept(sendParams...)
	sub, err := s.submission(c)
	if err != nil {
		return nil, err
	}
	sub.From, sub.Subject = p.Get("from"), p.Raw("subject")
	sub.To, sub.Cc, sub.Bcc = p.All("to"), p.All("cc"), p.All("bcc")
	sub.Text, sub.HTML, sub.AMP = p.Raw("text"), p.Raw("html"), p.Raw("amp-html")
	if sub.Template != nil && sub.HTML != "" {
		return nil, fault.Invalidf("Only one parameters 'html' or 'template' is allowed")
	}
	// A template may provide From and Subject (package send checks them
	// once it is rendered).
	if sub.From == "" && sub.Template == nil {
		return nil, fault.Invalidf("from parameter is missing")
	}
	if len(nonEmpty(sub.To)) == 0 {
		return nil, fault.Invalidf("to parameter is missing")
	}
	if sub.Subject == "" && sub.Template == nil {
		return nil, fault.Invalidf("subject parameter is missing")
	}
	if sub.Text == "" && sub.HTML == "" && sub.AMP == "" && sub.Template == nil {
		return nil, fault.Invalidf("Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified")
	}
	if sub.Attachments, err = readFiles(p, "attachment"); err != nil {
		return nil, err
	}
	if sub.Inline, err = readFiles(p, "inline"); err != nil {
		return nil, err
	}
	return s.Send.Send(c.R.Context(), sub)
}

func (s *Server) sendMIME(c *Ctx) (any, error) {
	p := c.P
	if p.ContentType != "multipart/form-data" {
		got := p.ContentType
		if got == "" {
			got = c.R.Header.Get("Content-Type")
		}
		return nil, fault.Invalidf("Invalid request content type. Expecting 'multipart/form-data' but got '%s'", got)
	}
	p.Accept("to", "message", "template", "recipient-variables", "o:*", "h:*", "v:*", "t:*")
	sub, err := s.submission(c)
	if err != nil {
		return nil, err
	}
	sub.To = p.All("to")
	if len(nonEmpty(sub.To)) == 0 {
		return nil, fault.Invalidf("to parameter is missing")
	}
	// mailgun-go uploads a file part; mailgun.js sends a text field.
	if files := p.Files("message"); len(files) > 0 {
		if sub.MIME, err = readFile(files[0]); err != nil {
			return nil, err
		}
	} else if m := p.Raw("message"); m != "" {
		sub.MIME = []byte(m)
	} else {
		return nil, fault.Invalidf("message parameter is missing")
	}
	if err := applyMIMEHeaders(p, sub, c.Domain); err != nil {
		return nil, err
	}
	return s.Send.Send(c.R.Context(), sub)
}

// applyMIMEHeaders reads the X-Mailgun-* headers of an uploaded message
// as the SMTP relay does (RFC 2047 words decoded) and removes them from
// it. The request's own parameters win: o: options and o:tag, v:
// variables, recipient-variables and template.
func applyMIMEHeaders(p *mgapi.Params, sub *send.Submission, d store.Domain) error {
	h, err := submission.ReadMailgunHeaders(sub.MIME, d)
	if err != nil {
		return err
	}
	sub.MIME = h.Raw
	if sub.Options, sub.Tags, err = parseOptions(p, h.Options); err != nil {
		return err
	}
	if len(sub.Tags) == 0 {
		sub.Tags = h.Tags
	}
	for k, v := range h.Vars {
		if _, given := sub.Vars[k]; !given {
			sub.Vars[k] = v
		}
	}
	if sub.RecipientVar == nil {
		sub.RecipientVar = h.RecipientVar
	}
	if sub.Template == nil {
		sub.Template = h.Template
	}
	return nil
}

// submission reads what both send endpoints share: options, headers,
// variables, tags, recipient variables and the idempotency key.
func (s *Server) submission(c *Ctx) (*send.Submission, error) {
	p := c.P
	size := 0
	for _, name := range p.Names() {
		if strings.HasPrefix(name, "o:") || strings.HasPrefix(name, "h:") || strings.HasPrefix(name, "v:") || strings.HasPrefix(name, "t:") {
			for _, v := range p.All(name) {
				size += len(name) + len(v)
			}
		}
	}
	if size > maxOptionsBytes {
		return nil, fault.Invalidf("Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total")
	}
	sub := &send.Submission{Domain: c.Domain, Method: "http", OriginatingIP: clientAddr(c.R), Vars: map[string]string{},
		Authorized: func(ctx context.Context) error { return s.stillAuthorized(ctx, c.R) }}
	var unknown []string
	for _, name := range p.Names() {
		switch {
		case strings.HasPrefix(name, "h:"):
			hn := name[2:]
			if err := checkHeaderName(hn); err != nil {
				return nil, err
			}
			for _, v := range p.All(name) {
				sub.Headers = append(sub.Headers, mail.Header{Name: hn, Value: v})
			}
		case strings.HasPrefix(name, "v:"):
			sub.Vars[name[2:]] = p.Raw(name)
		case strings.HasPrefix(name, "o:") && !knownOptions[name],
			strings.HasPrefix(name, "t:") && !knownTemplateOptions[name]:
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		p.Ignore(unknown...)
	}
	var err error
	if sub.Template, err = templateRef(p, sub); err != nil {
		return nil, err
	}
	base := send.Options{DKIM: true, RequireTLS: c.Domain.RequireTLS, SkipVerification: c.Domain.SkipVerification}
	if sub.Options, sub.Tags, err = parseOptions(p, base); err != nil {
		return nil, err
	}
	if rv := p.Raw("recipient-variables"); strings.TrimSpace(rv) != "" {
		if sub.RecipientVar, err = parseRecipientVariables(rv); err != nil {
			return nil, err
		}
	}
	if key := c.R.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 255 {
			return nil, fault.Invalidf("Idempotency-Key must be at most 255 characters")
		}
		sub.IdempotencyKey = key
		sub.IdempotencyFingerprint, err = fingerprint(c)
		if err != nil {
			return nil, err
		}
	}
	return sub, nil
}

func checkHeaderName(name string) error {
	if name == "" {
		return fault.Invalidf("Header name must not be empty")
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 0x80 {
			return fault.Invalidf("Header name must be pure ASCII: %s", name)
		}
		if ch <= ' ' || ch == ':' || ch == 0x7f {
			return fault.Invalidf("Header name is not valid: %q", name)
		}
	}
	return nil
}

// parseOptions reads the o: parameters over base (the domain's defaults,
// or what a MIME upload's X-Mailgun-* headers asked for): an option the
// request does not name keeps its base value.
func parseOptions(p *mgapi.Params, base send.Options) (send.Options, []string, error) {
	o := base
	bools := []struct {
		name string
		dst  *bool
	}{{"o:dkim", &o.DKIM}, {"o:testmode", &o.TestMode}, {"o:require-tls", &o.RequireTLS},
		{"o:skip-verification", &o.SkipVerification}, {"o:tracking-pixel-location-top", &o.TrackingPixelTop}}
	for _, b := range bools {
		v, err := p.Bool(b.name, *b.dst)
		if err != nil {
			return o, nil, err
		}
		*b.dst = v
	}
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"o:tracking", &o.Tracking}, {"o:tracking-opens", &o.TrackingOpens}} {
		if p.Get(b.name) == "" {
			continue
		}
		v, err := p.Bool(b.name, false)
		if err != nil {
			return o, nil, err
		}
		*b.dst = &v
	}
	if tc := strings.ToLower(p.Get("o:tracking-clicks")); tc != "" {
		if tc != "htmlonly" {
			v, ok := mgapi.ParseBool(tc)
			if !ok {
				return o, nil, fault.Invalidf("'o:tracking-clicks' parameter must be yes, no or htmlonly")
			}
			tc = map[bool]string{true: "yes", false: "no"}[v]
		}
		o.TrackingClicks = tc
	}
	if dt := p.Get("o:deliverytime"); dt != "" {
		t, err := mgapi.ParseDate(dt)
		if err != nil {
			return o, nil, fault.Invalidf("%v", err)
		}
		o.DeliveryTime = t.Unix()
	}
	if sh := p.Get("o:suppress-headers"); sh != "" {
		for _, h := range strings.Split(sh, ",") {
			if h = strings.TrimSpace(h); h != "" {
				o.SuppressHeaders = append(o.SuppressHeaders, h)
			}
		}
	}
	if a := p.Get("o:archive-to"); a != "" {
		o.ArchiveTo = a
	}
	// Checked against the node's source addresses and pools by package
	// send, which refuses an unknown one with a 400.
	if ip := p.Get("o:sending-ip"); ip != "" {
		o.SendingIP = ip
	}
	if pool := p.Get("o:sending-ip-pool"); pool != "" {
		o.SendingIPPool = pool
	}
	return o, normalizeTags(p.All("o:tag")), nil
}

// normalizeTags: see send.NormalizeTags.
func normalizeTags(raw []string) []string { return send.NormalizeTags(raw) }

func parseRecipientVariables(raw string) (map[string]map[string]any, error) {
	return send.ParseRecipientVariables(raw)
}

func readFiles(p *mgapi.Params, name string) ([]mail.Part, error) {
	if p.Has(name) && len(p.Files(name)) == 0 {
		return nil, fault.Invalidf("'%s' parameter is not a file", name)
	}
	var out []mail.Part
	for _, fh := range p.Files(name) {
		data, err := readFile(fh)
		if err != nil {
			return nil, err
		}
		ct := fh.Header.Get("Content-Type")
		if ct == "application/octet-stream" || ct == "" {
			ct = mail.ContentTypeOf(fh.Filename)
		}
		out = append(out, mail.Part{Filename: fh.Filename, ContentType: ct, Data: data})
	}
	return out, nil
}

func readFile(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// fingerprint hashes a send request's parameters and files, so that a
// retry with the same Idempotency-Key is recognised whatever the multipart
// boundary.
func fingerprint(c *Ctx) (string, error) {
	parts := [][]byte{[]byte(c.R.URL.Path)}
	names := c.P.Names()
	sort.Strings(names)
	for _, n := range names {
		parts = append(parts, []byte(n))
		for _, v := range c.P.All(n) {
			parts = append(parts, []byte(v))
		}
		for _, fh := range c.P.Files(n) {
			data, err := readFile(fh)
			if err != nil {
				return "", err
			}
			parts = append(parts, []byte(fh.Filename), data)
		}
	}
	return send.Fingerprint(parts...), nil
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}
