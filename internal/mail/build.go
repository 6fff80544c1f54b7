// Package mail builds and reads Internet messages: addresses, Message-IDs,
// MIME construction from Mailgun's send parameters, inspection of uploaded
// MIME, and per-recipient personalisation of batch sends.
//
// Built messages are 7-bit clean: text parts are quoted-printable UTF-8,
// files base64, non-ASCII header text RFC 2047 encoded, so any relay can
// carry them without 8BITMIME.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// Part is a file attached to a message or shown inline.
type Part struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Header is one extra header field.
type Header struct {
	Name, Value string
}

// Spec is a message to build.
type Spec struct {
	From        *netmail.Address
	To, Cc      []*netmail.Address
	Subject     string
	Text        string
	HTML        string
	AMP         string
	Inline      []Part
	Attachments []Part
	Headers     []Header // extra headers, in order (h:* parameters)
	MessageID   string   // without angle brackets
	Date        time.Time
}

// NewMessageID returns a Message-ID (without brackets) shaped like
// Mailgun's: 20221019211537.93011d31ea99c5a8@example.com. The 16 hex
// digits are the microsecond within the second (5 digits) and 44 random
// bits, so IDs sort by time: the store indexes them, and IDs that sort
// together add to the end of the index instead of dirtying a random page
// of it for every message (on SQLite two of every accept's ~3 pages).
func NewMessageID(domain string, now time.Time) string {
	now = now.UTC()
	var b [8]byte
	_, _ = rand.Read(b[:])
	x := uint64(now.Nanosecond()/1000)<<44 | binary.BigEndian.Uint64(b[:])&(1<<44-1)
	binary.BigEndian.PutUint64(b[:], x)
	return now.Format("20060102150405") + "." + hex.EncodeToString(b[:]) + "@" + domain
}

// Build writes the MIME message for s.
func Build(s Spec) ([]byte, error) {
	// Fields are written last-added first: add them in reverse of the
	// order wanted on the wire (From, To, Cc, Subject, Date, Message-Id,
	// extra headers, MIME-Version, Content-Type).
	var h gomail.Header
	root := rootContentType(s)
	if strings.HasPrefix(root, "multipart/") {
		h.SetContentType(root, nil)
	} else {
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		h.SetContentType(root, map[string]string{"charset": "utf-8"})
	}
	h.Set("MIME-Version", "1.0")
	for i := len(s.Headers) - 1; i >= 0; i-- {
		x := s.Headers[i]
		if strings.EqualFold(x.Name, "Message-Id") {
			continue // the caller already used it as MessageID
		}
		h.Add(x.Name, encodeHeaderValue(x.Value))
	}
	h.SetMessageID(s.MessageID)
	h.SetDate(s.Date)
	h.SetSubject(s.Subject)
	if len(s.Cc) > 0 {
		h.SetAddressList("Cc", toGo(s.Cc))
	}
	if len(s.To) > 0 {
		h.SetAddressList("To", toGo(s.To))
	}
	h.SetAddressList("From", []*gomail.Address{(*gomail.Address)(s.From)})
	var buf bytes.Buffer
	w, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, err
	}
	if err := writeBody(w, s, root); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func toGo(l []*netmail.Address) []*gomail.Address {
	out := make([]*gomail.Address, len(l))
	for i, a := range l {
		out[i] = (*gomail.Address)(a)
	}
	return out
}

// encodeHeaderValue RFC 2047-encodes values that are not plain ASCII.
func encodeHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return v
}

// The structure Mailgun builds:
//
//	multipart/mixed            (when there are attachments)
//	  multipart/related        (when there are inline files)
//	    multipart/alternative  (when more than one of text, amp, html)
//	      text/plain, text/x-amp-html, text/html
//	    inline files (Content-ID: <filename>)
//	  attachments
func rootContentType(s Spec) string {
	switch {
	case len(s.Attachments) > 0:
		return "multipart/mixed"
	case len(s.Inline) > 0:
		return "multipart/related"
	}
	return alternativeType(s)
}

func alternativeType(s Spec) string {
	n := 0
	for _, v := range []string{s.Text, s.AMP, s.HTML} {
		if v != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return "multipart/alternative"
	case s.HTML != "":
		return "text/html"
	case s.AMP != "":
		return "text/x-amp-html"
	}
	return "text/plain"
}

func writeBody(w *message.Writer, s Spec, level string) error {
	switch level {
	case "multipart/mixed":
		inner := "multipart/related"
		if len(s.Inline) == 0 {
			inner = alternativeType(s)
		}
		if err := writeChild(w, s, inner); err != nil {
			return err
		}
		for _, a := range s.Attachments {
			if err := writeFile(w, a, "attachment"); err != nil {
				return err
			}
		}
		return nil
	case "multipart/related":
		if err := writeChild(w, s, alternativeType(s)); err != nil {
			return err
		}
		for _, a := range s.Inline {
			if err := writeFile(w, a, "inline"); err != nil {
				return err
			}
		}
		return nil
	case "multipart/alternative":
		for _, p := range []struct{ typ, body string }{{"text/plain", s.Text}, {"text/x-amp-html", s.AMP}, {"text/html", s.HTML}} {
			if p.body == "" {
				continue
			}
			if err := writeText(w, p.typ, p.body); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := w.Write([]byte(textOf(s, level)))
	return err
}

func textOf(s Spec, typ string) string {
	switch typ {
	case "text/html":
		return s.HTML
	case "text/x-amp-html":
		return s.AMP
	}
	return s.Text
}

func writeChild(w *message.Writer, s Spec, typ string) error {
	var h message.Header
	if !strings.HasPrefix(typ, "multipart/") {
		return writeText(w, typ, textOf(s, typ))
	}
	h.SetContentType(typ, nil)
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if err := writeBody(pw, s, typ); err != nil {
		return err
	}
	return pw.Close()
}

func writeText(w *message.Writer, typ, body string) error {
	var h message.Header
	h.SetContentType(typ, map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write([]byte(body)); err != nil {
		return err
	}
	return pw.Close()
}

func writeFile(w *message.Writer, p Part, disposition string) error {
	var h message.Header
	ct := p.ContentType
	if ct == "" {
		ct = ContentTypeOf(p.Filename)
	}
	h.SetContentType(ct, map[string]string{"name": p.Filename})
	h.SetContentDisposition(disposition, map[string]string{"filename": p.Filename})
	h.Set("Content-Transfer-Encoding", "base64")
	if disposition == "inline" {
		h.Set("Content-Id", "<"+p.Filename+">")
	}
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(p.Data); err != nil {
		return err
	}
	return pw.Close()
}

// ContentTypeOf guesses a file's type from its name.
func ContentTypeOf(filename string) string {
	if i := strings.LastIndexByte(filename, '.'); i >= 0 {
		if t := mime.TypeByExtension(strings.ToLower(filename[i:])); t != "" {
			if mt, _, err := mime.ParseMediaType(t); err == nil {
				return mt
			}
		}
	}
	return "application/octet-stream"
}

// ParseAddressList reads recipient parameters: each value may hold one
// address or a comma-separated list, with or without display names.
func ParseAddressList(values []string) ([]*netmail.Address, error) {
	var out []*netmail.Address
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		l, err := netmail.ParseAddressList(v)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", v, err)
		}
		out = append(out, l...)
	}
	return out, nil
}

// Domain returns the lower-cased domain of an address ("" if none).
func Domain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// NeedsUTF8 reports whether an address needs SMTPUTF8.
func NeedsUTF8(addr string) bool {
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			return true
		}
	}
	return false
}
