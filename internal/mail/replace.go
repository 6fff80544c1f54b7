package mail

import (
	"bytes"
	"strings"

	"github.com/emersion/go-message"
)

// ReplaceBody keeps raw's header but its MIME fields and gives it a new
// body: html, with text as its plain alternative when not empty (a
// template rendered into a /messages.mime upload). Fields of defaults
// (From, Subject, Reply-To) are added when raw lacks them.
func ReplaceBody(raw []byte, html, text string, defaults map[string]string) ([]byte, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		return nil, err
	}
	var h message.Header
	// Fields are written last-added first: add in reverse order.
	var keep [][]byte
	fs := e.Header.Fields()
	for fs.Next() {
		k := strings.ToLower(fs.Key())
		if k == "mime-version" || strings.HasPrefix(k, "content-") {
			continue
		}
		r, err := fs.Raw()
		if err != nil {
			return nil, err
		}
		keep = append(keep, append([]byte(nil), r...))
	}
	s := Spec{Text: text, HTML: html}
	typ := alternativeType(s)
	if strings.HasPrefix(typ, "multipart/") {
		h.SetContentType(typ, nil)
	} else {
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		h.SetContentType(typ, map[string]string{"charset": "utf-8"})
	}
	h.Set("MIME-Version", "1.0")
	for _, name := range []string{"Reply-To", "Subject", "From"} {
		if v := defaults[name]; v != "" && !e.Header.Has(name) {
			h.Add(name, encodeHeaderValue(v))
		}
	}
	for i := len(keep) - 1; i >= 0; i-- {
		h.AddRaw(keep[i])
	}
	var buf bytes.Buffer
	w, err := message.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if err := writeBody(w, s, typ); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AddHeaderIfMissing prepends the field name: value to raw unless raw's
// header already has one.
func AddHeaderIfMissing(raw []byte, name, value string) ([]byte, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil {
		return nil, err
	}
	if e.Header.Has(name) {
		return raw, nil
	}
	field := name + ": " + encodeHeaderValue(value) + "\r\n"
	return append([]byte(field), raw...), nil
}
