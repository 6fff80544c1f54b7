package inbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/mail"
)

// parsed is a received message as routes post it (docs/mailgun-contract.md §6.4).
type parsed = mail.Presented

// parse reads a received message (mail.Present).
func parse(raw []byte) (*parsed, error) { return mail.Present(raw) }

// field is one form field; file one file part.
type field struct{ name, value string }

type file struct {
	field, name, contentType string
	data                     []byte
}

// form is the body of a route POST, in order.
type form struct {
	fields []field
	files  []file
}

func (f *form) add(name, value string) { f.fields = append(f.fields, field{name, value}) }

// reserved are the fields Salvo sets; a message header with one of these
// names is not posted as its own field, so a sender cannot forge them
// (timestamp, token and signature are compared in any case).
var reserved = map[string]bool{"recipient": true, "sender": true, "from": true, "subject": true, "body-plain": true,
	"stripped-text": true, "stripped-signature": true, "body-html": true, "stripped-html": true, "attachment-count": true,
	"timestamp": true, "token": true, "signature": true, "message-headers": true, "content-id-map": true,
	"body-mime": true, "domain": true, "message-url": true, "attachments": true}

func isReserved(name string) bool {
	l := strings.ToLower(name)
	if l == "timestamp" || l == "token" || l == "signature" || strings.HasPrefix(l, "attachment-") {
		return true
	}
	return reserved[name]
}

// parsedForm is the default forward POST: the parsed message, its files
// as attachment-1…N, message-headers as a JSON string of pairs, and every
// header as a field of its own (docs/mailgun-contract.md §6.4). withFiles false leaves
// the files out and lists them in an "attachments" JSON field instead,
// with urls under base (store notifications).
func parsedForm(p *parsed, rcpt, sender, base string, withFiles bool) *form {
	f := &form{}
	f.add("recipient", rcpt)
	f.add("sender", sender)
	f.add("from", p.From)
	f.add("subject", p.Subject)
	f.add("body-plain", p.BodyPlain)
	f.add("stripped-text", p.StrippedText)
	f.add("stripped-signature", p.StrippedSignature)
	f.add("body-html", p.BodyHTML)
	f.add("stripped-html", p.StrippedHTML)
	f.add("attachment-count", strconv.Itoa(len(p.Files)))
	cids := map[string]string{}
	var listed []map[string]any
	for i, pf := range p.Files {
		name := "attachment-" + strconv.Itoa(i+1)
		if pf.ContentID != "" {
			cids["<"+pf.ContentID+">"] = name
		}
		if withFiles {
			// A file part needs a file name, or receivers read it as text.
			fname := pf.Filename
			if fname == "" {
				fname = name
			}
			f.files = append(f.files, file{field: name, name: fname, contentType: pf.ContentType, data: pf.Data})
		} else {
			listed = append(listed, map[string]any{"url": base + "/attachments/" + strconv.Itoa(i), "name": pf.Filename,
				"content-type": pf.ContentType, "size": len(pf.Data)})
		}
	}
	headers := make([][]string, 0, len(p.Headers))
	for _, h := range p.Headers {
		headers = append(headers, []string{h[0], h[1]})
	}
	f.add("message-headers", mustJSON(headers))
	f.add("content-id-map", mustJSON(cids))
	if !withFiles {
		if listed == nil {
			listed = []map[string]any{}
		}
		f.add("attachments", mustJSON(listed))
	}
	for _, h := range p.Headers {
		if !isReserved(h[0]) {
			f.add(h[0], h[1])
		}
	}
	return f
}

// mimeForm is the forward POST to a URL ending in "mime": the message
// as received in body-mime (docs/mailgun-contract.md §6.4).
func mimeForm(raw []byte, p *parsed, rcpt, sender string) *form {
	f := &form{}
	f.add("recipient", rcpt)
	f.add("sender", sender)
	f.add("from", p.From)
	f.add("subject", p.Subject)
	f.add("body-mime", string(raw))
	return f
}

func mustJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // strings and maps of strings always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// encode writes the form as multipart/form-data and returns the body and
// its Content-Type.
func (f *form) encode() ([]byte, string, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, fl := range f.fields {
		if err := mw.WriteField(fl.name, fl.value); err != nil {
			return nil, "", err
		}
	}
	for _, fl := range f.files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(fl.field), escapeQuotes(fl.name)))
		h.Set("Content-Type", safeMediaType(fl.contentType))
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := w.Write(fl.data); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), mw.FormDataContentType(), nil
}

// escapeQuotes keeps a file name from closing the quoted parameter or
// breaking the header line.
func escapeQuotes(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"").Replace(s)
}

// safeMediaType is a file part's Content-Type: the message's if it is a
// valid media type, else application/octet-stream.
func safeMediaType(ct string) string {
	if t, _, err := mime.ParseMediaType(ct); err == nil && !strings.ContainsFunc(ct, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return t
	}
	return "application/octet-stream"
}
