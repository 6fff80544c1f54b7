package bounce

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
)

// msg is a received message taken apart just far enough for Parse: the
// top-level fields it looks at, the report parts, the human-readable text
// outside any enclosed message, and the enclosed original's headers.
type msg struct {
	top      header
	subject  string
	status   [][]byte // message/delivery-status and message/global-delivery-status bodies
	feedback [][]byte // message/feedback-report bodies
	texts    []string // text/plain parts outside enclosed messages, in order
	htmls    []string // text/html parts outside enclosed messages
	original Original
	hasOrig  bool
	origRcpt string // X-HmXmrOriginalRecipient of the enclosed message (Microsoft JMRP)
	parts    int
}

// maxFieldLen bounds an unfolded field value; continuation lines past it
// are dropped, which keeps hostile folding linear.
const maxFieldLen = 8 << 10

// header is a tolerant header block: lower-case name -> values in order.
type header map[string][]string

func (h header) get(name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// walk takes raw apart. go-message reads well-formed MIME; when it cannot
// (broken header block, missing boundary), what it could not read is
// kept as plain text so the heuristics still see it.
func walk(raw []byte) *msg {
	m := &msg{}
	head, body := splitHeader(raw)
	m.top = parseHeader(head)
	m.subject = decodeWord(m.top.get("subject"))
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && (e == nil || !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
		m.texts = append(m.texts, string(body))
		return m
	}
	m.visit(e, 0)
	return m
}

// visit files one entity by its media type and descends into multiparts.
func (m *msg) visit(e *message.Entity, depth int) {
	m.parts++
	if m.parts > MaxParts {
		return
	}
	mt, params, _ := e.Header.ContentType()
	mt = strings.ToLower(mt)
	body, _ := io.ReadAll(io.LimitReader(e.Body, MaxInput))
	if strings.HasPrefix(mt, "multipart/") {
		m.visitMultipart(e, params, body, depth)
		return
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		m.status = append(m.status, body)
	case "message/feedback-report":
		m.feedback = append(m.feedback, body)
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers", "text/rfc822-header":
		m.enclosed(body)
	case "text/html":
		m.htmls = append(m.htmls, string(body))
	case "", "text/plain", "text/text", "text", "application/json":
		m.texts = append(m.texts, string(body))
	}
}

// visitMultipart reads the parts of a multipart body; a multipart whose
// parts cannot be read (no boundary, no delimiter) is read as text.
func (m *msg) visitMultipart(e *message.Entity, params map[string]string, body []byte, depth int) {
	if depth >= MaxDepth || params["boundary"] == "" {
		m.texts = append(m.texts, string(body))
		return
	}
	part, err := message.New(e.Header, bytes.NewReader(body))
	if err != nil && part == nil {
		m.texts = append(m.texts, string(body))
		return
	}
	mr := part.MultipartReader()
	n := 0
	for m.parts <= MaxParts {
		p, err := mr.NextPart()
		if err != nil && (p == nil || !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			if err != io.EOF {
				n += m.lenientParts(body, params["boundary"], n, depth)
			}
			break
		}
		n++
		m.visit(p, depth+1)
	}
	if n == 0 {
		m.texts = append(m.texts, string(body))
	}
}

// lenientParts reads the parts of body from index skip on when go-message
// gave up on one of them (Exchange writes header lines without a colon or
// indentation): it splits at the boundary delimiter lines (RFC 2046
// §5.1.1) itself, drops header lines that are neither fields nor
// continuations, and reads each part again. It returns how many it read.
func (m *msg) lenientParts(body []byte, boundary string, skip, depth int) int {
	delim := []byte("--" + boundary)
	var parts [][]byte
	var cur []byte
	inPart := false
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \t\r\n")
		if bytes.HasPrefix(trimmed, delim) && (len(trimmed) == len(delim) || bytes.Equal(trimmed[len(delim):], []byte("--"))) {
			if inPart {
				parts = append(parts, cur)
			}
			cur, inPart = nil, len(trimmed) == len(delim)
			if !inPart {
				break
			}
			continue
		}
		if inPart {
			cur = append(cur, line...)
		}
	}
	if inPart {
		parts = append(parts, cur)
	}
	read := 0
	for i := skip; i < len(parts) && m.parts <= MaxParts; i++ {
		head, rest := splitHeader(parts[i])
		clean := append(sanitizeHeader(head), '\n')
		e, err := message.Read(bytes.NewReader(append(clean, rest...)))
		if err != nil && (e == nil || !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
			continue
		}
		read++
		m.visit(e, depth+1)
	}
	return read
}

// sanitizeHeader keeps the lines of a header block that are fields or
// their continuations.
func sanitizeHeader(head []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(head, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || looksLikeField(line) {
			out = append(out, line...)
			if out[len(out)-1] != '\n' {
				out = append(out, '\n')
			}
		}
	}
	return out
}

// enclosed keeps the header fields of the first enclosed original message.
func (m *msg) enclosed(body []byte) {
	if m.hasOrig {
		return
	}
	head, _ := splitHeader(body)
	h := parseHeader(head)
	if len(h) == 0 {
		return
	}
	m.hasOrig = true
	m.original = originalOf(h)
	m.origRcpt = strings.Trim(strings.TrimSpace(h.get("x-hmxmroriginalrecipient")), "<>")
}

func originalOf(h header) Original {
	return Original{
		MessageID:  strings.Trim(strings.TrimSpace(h.get("message-id")), "<>"),
		ReturnPath: strings.Trim(strings.TrimSpace(h.get("return-path")), "<>"),
		From:       decodeWord(h.get("from")),
		To:         decodeWord(h.get("to")),
		Subject:    decodeWord(h.get("subject")),
	}
}

// splitHeader cuts raw at its first empty line. Input without one is all
// header when it starts like a header field, else all body.
func splitHeader(raw []byte) (head, body []byte) {
	raw = bytes.TrimLeft(raw, "\n")
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1], raw[i+2:]
	}
	if looksLikeField(firstLine(raw)) {
		return raw, nil
	}
	return nil, raw
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// looksLikeField reports whether line starts "Name:" with an RFC 5322 §3.6.8
// field name.
func looksLikeField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 || i > 76 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// parseHeader reads "Name: value" lines with folding (RFC 5322 §2.2.3);
// lines that are neither are skipped.
func parseHeader(head []byte) header {
	h := header{}
	var name string
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && name != "" {
			if v := h[name]; len(v[len(v)-1]) < maxFieldLen {
				v[len(v)-1] += " " + strings.TrimSpace(line)
			}
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 || !looksLikeField([]byte(line)) {
			name = ""
			continue
		}
		name = strings.ToLower(strings.TrimSpace(line[:i]))
		h[name] = append(h[name], strings.TrimSpace(line[i+1:]))
	}
	return h
}

// decodeWord decodes RFC 2047 encoded words where the charset is known;
// otherwise the text is kept as it is.
func decodeWord(s string) string {
	d := mime.WordDecoder{}
	if out, err := d.DecodeHeader(s); err == nil {
		return strings.TrimSpace(out)
	}
	return strings.TrimSpace(s)
}

// fromDaemon reports whether the message comes from a mailer daemon or
// postmaster, by its From address or display name.
func (m *msg) fromDaemon() bool {
	from := strings.ToLower(m.top.get("from"))
	for _, w := range []string{"mailer-daemon", "mailer_daemon", "mail-daemon", "mailerdaemon", "postmaster", "mail delivery", "mail administrator", "mailadmin", "mdaemon"} {
		if strings.Contains(from, w) {
			return true
		}
	}
	return false
}
