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
// other than UTF-8 are converted when go-message knows them.
func Parse(raw []byte) (Parsed, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return Parsed{}, err
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
	return p, err
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
