package mail

import (
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// Parsed is a message taken apart the way Mailgun presents stored and
// routed messages: headers in order, the first text/plain and text/html
// bodies, and every other part as a file.
type Parsed struct {
	Headers [][2]string
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	Files   []ParsedFile
}

// ParsedFile is an attachment or inline part.
type ParsedFile struct {
	Filename    string
	ContentType string
	ContentID   string // without angle brackets
	Inline      bool
	Data        []byte
}

// Parse reads raw. Parts it cannot decode are kept as raw bytes; charsets
// other than UTF-8 are converted when go-message knows them. It reads
// whatever was accepted: a header block of any size, a multipart body cut
// short (the parts before the cut are kept), and a header block go-message
// refuses (then read line by line, the rest taken as text). The error is
// always nil; it stays in the signature for callers that check it.
func Parse(raw []byte) (Parsed, error) {
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: -1})
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return lenient(raw), nil
	}
	var p Parsed
	fields := e.Header.Fields()
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		p.Headers = append(p.Headers, [2]string{fields.Key(), v})
	}
	mh := gomail.Header{Header: e.Header}
	p.From, p.To = decoded(mh, "From"), decoded(mh, "To")
	p.Subject, _ = mh.Subject()
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return nil // skip undecodable parts
		}
		if part.MultipartReader() != nil {
			return nil
		}
		ct, ctParams, _ := part.Header.ContentType()
		disp, dParams, _ := part.Header.ContentDisposition()
		body, _ := io.ReadAll(part.Body)
		name := dParams["filename"]
		if name == "" {
			name = ctParams["name"]
		}
		isText := (ct == "text/plain" || ct == "text/html" || ct == "") && disp != "attachment" && name == ""
		switch {
		case isText && ct == "text/html" && p.HTML == "":
			p.HTML = string(body)
		case isText && ct != "text/html" && p.Text == "":
			p.Text = string(body)
		case isText:
			// a further text part of an alternative: keep the first only
		default:
			cid := strings.Trim(part.Header.Get("Content-Id"), "<> ")
			p.Files = append(p.Files, ParsedFile{Filename: name, ContentType: ct, ContentID: cid,
				Inline: disp == "inline" || (disp == "" && cid != ""), Data: body})
		}
		return nil
	})
	// A Walk error is a multipart body cut short: keep what was read.
	_ = err
	return p, nil
}

// lenient reads a message whose header block go-message refuses: each
// "Name: value" line (folded lines joined) is a header, the rest is text.
func lenient(raw []byte) Parsed {
	var p Parsed
	text := string(raw)
	head, body, found := strings.Cut(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n")
	if !found {
		head, body = text, ""
	}
	for _, line := range strings.Split(head, "\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(p.Headers) > 0 {
			p.Headers[len(p.Headers)-1][1] += " " + strings.TrimSpace(line)
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && fieldName(k) {
			p.Headers = append(p.Headers, [2]string{k, strings.TrimSpace(v)})
		}
	}
	p.From, p.To, p.Subject = p.HeaderValue("From"), p.HeaderValue("To"), p.HeaderValue("Subject")
	p.Text = body
	return p
}

// HeaderValue returns the first header named key.
func (p Parsed) HeaderValue(key string) string {
	for _, h := range p.Headers {
		if strings.EqualFold(h[0], key) {
			return h[1]
		}
	}
	return ""
}

// fieldName reports whether k is a header field name: printable US-ASCII
// but the colon (RFC 5322 §3.6.8).
func fieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 33 || k[i] > 126 {
			return false
		}
	}
	return true
}
