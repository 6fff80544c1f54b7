package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

var errMessageNotFound = fault.NotFoundf("Message not found")

// storedMessage loads the stored message of the path.
func (s *Server) storedMessage(c *Ctx) (store.Message, msgmeta.Meta, error) {
	m, err := s.Regional.Message(c.R.Context(), c.Domain.Name, c.Var("key"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !m.ExpiresAt.IsZero() && s.Now().After(m.ExpiresAt)) {
		return m, msgmeta.Meta{}, errMessageNotFound
	}
	if err != nil {
		return m, msgmeta.Meta{}, err
	}
	meta, err := msgmeta.Decode(m.Meta)
	return m, meta, err
}

// getStoredMessage is GET …/messages/{key} (docs/mailgun-contract.md §7): parsed JSON, or
// the raw MIME in body-mime when the client accepts message/rfc2822.
func (s *Server) getStoredMessage(c *Ctx) (any, error) {
	c.P.Accept()
	m, meta, err := s.storedMessage(c)
	if err != nil {
		return nil, err
	}
	p, err := mail.Present(m.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"recipients": strings.Join(meta.Recipients, ", "),
		"sender":     m.Sender,
		"from":       p.From,
		"subject":    p.Subject,
	}
	if strings.Contains(c.R.Header.Get("Accept"), "message/rfc2822") {
		out["body-mime"] = string(m.Body)
		return out, nil
	}
	base := s.messageURL(c.Domain.Name, m.Key)
	attachments := []map[string]any{}
	cidMap := map[string]any{}
	for i, f := range p.Files {
		a := map[string]any{"size": len(f.Data), "url": base + "/attachments/" + strconv.Itoa(i),
			"name": f.Filename, "content-type": f.ContentType}
		attachments = append(attachments, a)
		if f.ContentID != "" {
			cidMap["<"+f.ContentID+">"] = a
		}
	}
	headers := make([][]string, 0, len(p.Headers))
	for _, h := range p.Headers {
		headers = append(headers, []string{h[0], h[1]})
		if _, taken := out[h[0]]; !taken {
			out[h[0]] = h[1]
		}
	}
	out["body-plain"], out["stripped-text"], out["stripped-signature"] = p.BodyPlain, p.StrippedText, p.StrippedSignature
	out["body-html"], out["stripped-html"] = p.BodyHTML, p.StrippedHTML
	out["attachments"], out["content-id-map"] = attachments, cidMap
	out["message-headers"], out["message-url"] = headers, base
	return out, nil
}

func (s *Server) messageURL(domain, key string) string {
	return s.PublicURL + "/v3/domains/" + url.PathEscape(domain) + "/messages/" + key
}

// getStoredAttachment is GET …/messages/{key}/attachments/{n}: raw bytes.
func (s *Server) getStoredAttachment(c *Ctx) (any, error) {
	c.P.Accept()
	m, _, err := s.storedMessage(c)
	if err != nil {
		return nil, err
	}
	p, err := mail.Parse(m.Body)
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(c.Var("n"))
	if err != nil || n < 0 || n >= len(p.Files) {
		return nil, fault.NotFoundf("Attachment not found")
	}
	f := p.Files[n]
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.W.Header().Set("Content-Type", ct)
	c.W.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	c.W.WriteHeader(http.StatusOK)
	_, _ = c.W.Write(f.Data)
	return nil, nil
}

// resendMessage is POST …/messages/{key}: send the stored message again to
// new recipients.
func (s *Server) resendMessage(c *Ctx) (any, error) {
	c.P.Accept("to")
	to := nonEmpty(c.P.All("to"))
	if len(to) == 0 {
		return nil, fault.Invalidf("to parameter is missing")
	}
	m, meta, err := s.storedMessage(c)
	if err != nil {
		return nil, err
	}
	// A resend is a new message: it gets its own Message-Id (and so its
	// own events), not the original's.
	sub := &send.Submission{Domain: c.Domain, Method: "http", OriginatingIP: clientAddr(c.R),
		MIME: mail.RemoveHeader(m.Body, "Message-Id"), To: to, Tags: meta.Info.Tags, Options: meta.Options, Vars: meta.Vars}
	sub.Options.DeliveryTime = 0
	return s.Send.Send(c.R.Context(), sub)
}
