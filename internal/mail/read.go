package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Info is what events need to know about a message.
type Info struct {
	From, To, Subject, MessageID string
	Attachments                  []AttachmentInfo
}

// AttachmentInfo describes one attached file.
type AttachmentInfo struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content-type"`
	Size        int    `json:"size"`
}

// Inspect reads the headers and attachment list of a raw message. A body
// it cannot walk is not an error: only headers are required.
func Inspect(raw []byte) (Info, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return Info{}, fmt.Errorf("message headers: %w", err)
	}
	mh := gomail.Header{Header: message.Header{Header: h}}
	var info Info
	info.From = decoded(mh, "From")
	info.To = decoded(mh, "To")
	info.Subject, _ = mh.Subject()
	if id, err := mh.MessageID(); err == nil {
		info.MessageID = id
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return info, nil
	}
	_ = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return nil
		}
		disp, params, _ := part.Header.ContentDisposition()
		if disp != "attachment" && disp != "inline" || len(path) == 0 {
			return nil
		}
		ct, ctParams, _ := part.Header.ContentType()
		name := params["filename"]
		if name == "" {
			name = ctParams["name"]
		}
		if disp == "inline" && name == "" {
			return nil
		}
		n, _ := io.Copy(io.Discard, part.Body)
		info.Attachments = append(info.Attachments, AttachmentInfo{Filename: name, ContentType: ct, Size: int(n)})
		return nil
	})
	return info, nil
}

func decoded(h gomail.Header, key string) string {
	v, err := h.Text(key)
	if err != nil {
		return h.Get(key)
	}
	return v
}

// EnsureHeaders prepends a Message-ID and a Date when raw lacks them and
// returns the message and its Message-ID (without brackets).
func EnsureHeaders(raw []byte, domain string, now time.Time) ([]byte, string, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, "", fmt.Errorf("message headers: %w", err)
	}
	mh := gomail.Header{Header: message.Header{Header: h}}
	var prefix bytes.Buffer
	id, err := mh.MessageID()
	if err != nil || id == "" {
		id = NewMessageID(domain, now)
		fmt.Fprintf(&prefix, "Message-Id: <%s>\r\n", id)
	}
	if !mh.Has("Date") {
		fmt.Fprintf(&prefix, "Date: %s\r\n", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	}
	if prefix.Len() == 0 {
		return raw, id, nil
	}
	return append(prefix.Bytes(), raw...), id, nil
}

// Replacer substitutes placeholders in one piece of text.
type Replacer func(string) string

// Personalize rewrites a message for one recipient of a batch send: every
// header value and every text part goes through replace, and To is set to
// to (each batch copy shows only its own recipient). Files pass unchanged.
func Personalize(raw []byte, to string, replace Replacer) ([]byte, error) {
	return Rewrite(raw, Rewriting{To: to, Replace: replace})
}

// Rewriting is how one recipient's copy of a message differs from the
// stored message: personalisation and tracking.
type Rewriting struct {
	// To replaces the To field when not empty.
	To string
	// Replace is applied to every header value holding a '%' and to every
	// text part (nil: none).
	Replace Replacer
	// HTML and Text are applied to text/html and text/plain parts that are
	// not attachments, after Replace (nil: none).
	HTML, Text Replacer
	// Headers are added at the top of the header, each unless a field of
	// its name is there.
	Headers []Header
}

// Rewrite makes one recipient's copy of raw as rw says. Files pass
// unchanged; header fields it does not change keep their raw form.
func Rewrite(raw []byte, rw Rewriting) ([]byte, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if rw.Replace == nil {
		rw.Replace = func(s string) string { return s }
	}
	h := personalizeHeader(e.Header, rw.To, rw.Replace)
	for _, f := range rw.Headers {
		if !h.Has(f.Name) {
			h.Add(f.Name, f.Value) // Add puts new fields first
		}
	}
	var buf bytes.Buffer
	w, err := message.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if err := copyEntity(w, e, rw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// personalizeHeader rebuilds h with placeholders replaced, keeping field
// order and the raw form of fields it does not change.
// unfold makes a header value one line: CR and LF become spaces.
func unfold(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
}

func personalizeHeader(h message.Header, to string, replace Replacer) message.Header {
	type field struct {
		key, value string
		raw        []byte
	}
	var fields []field
	fs := h.Fields()
	for fs.Next() {
		f := field{key: fs.Key()}
		switch {
		case to != "" && strings.EqualFold(f.key, "To"):
			f.value = to
		case strings.Contains(fs.Value(), "%"):
			if v, err := fs.Text(); err == nil {
				// A substituted value must not break the field (a line
				// break in a recipient or member variable): one line.
				f.value = encodeHeaderValue(unfold(replace(v)))
				break
			}
			fallthrough
		default:
			raw, err := fs.Raw()
			if err != nil {
				f.value = fs.Value()
			} else {
				f.raw = append([]byte(nil), raw...)
			}
		}
		fields = append(fields, f)
	}
	var out message.Header
	// Header fields are written last-added first, so add in reverse.
	for i := len(fields) - 1; i >= 0; i-- {
		if fields[i].raw != nil {
			out.AddRaw(fields[i].raw)
		} else {
			out.Add(fields[i].key, fields[i].value)
		}
	}
	return out
}

func copyEntity(w *message.Writer, e *message.Entity, rw Rewriting) error {
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			pw, err := w.CreatePart(p.Header)
			if err != nil {
				return err
			}
			if err := copyEntity(pw, p, rw); err != nil {
				return err
			}
			if err := pw.Close(); err != nil {
				return err
			}
		}
	}
	ct, _, _ := e.Header.ContentType()
	disp, _, _ := e.Header.ContentDisposition()
	if !strings.HasPrefix(ct, "text/") || disp == "attachment" {
		_, err := io.Copy(w, e.Body)
		return err
	}
	b, err := io.ReadAll(e.Body)
	if err != nil {
		return err
	}
	text := rw.Replace(string(b))
	switch {
	case ct == "text/html" && rw.HTML != nil:
		text = rw.HTML(text)
	case ct == "text/plain" && rw.Text != nil:
		text = rw.Text(text)
	}
	_, err = w.Write([]byte(text))
	return err
}
