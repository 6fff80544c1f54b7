package web

import (
	"encoding/base64"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
)

// Content-Security-Policies of a message's own content. The HTML preview
// is a sandboxed document (the sandbox directive holds even when the URL
// is opened outside its iframe): no scripts, no plugins, no forms, an
// opaque origin, and nothing fetched but inline (cid:) images turned into
// data: URLs, unless remote images were asked for. Only dashboard pages
// may frame it.
const (
	previewPolicy = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
	previewRemotePolicy = "sandbox; default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'; font-src data:; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
	// attachmentPolicy guards a downloaded file a browser opens anyway.
	attachmentPolicy = "sandbox; default-src 'none'"
	// messagePagePolicy lets the message page frame its preview.
	messagePagePolicy = pagePolicy + "; frame-src 'self'"
)

// errMessageGone answers for a message that is not stored (any more).
var errMessageGone = fault.NotFoundf("This message is not stored: it never was, or it expired and was removed.")

// storedMessage is a message of the path's domain and key, taken apart.
type storedMessage struct {
	store.Message
	Meta   msgmeta.Meta
	Parsed mail.Parsed
}

func (s *Server) loadMessage(rq *request) (storedMessage, error) {
	domain, key := rq.r.PathValue("domain"), rq.r.PathValue("key")
	m, err := s.Regional.Message(rq.r.Context(), domain, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !m.ExpiresAt.IsZero() && s.Now().After(m.ExpiresAt)) {
		return storedMessage{}, errMessageGone
	}
	if err != nil {
		return storedMessage{}, err
	}
	sm := storedMessage{Message: m}
	if sm.Meta, err = msgmeta.Decode(m.Meta); err != nil {
		return sm, err
	}
	sm.Parsed, err = mail.Parse(m.Body)
	return sm, err
}

// messageData is the page of one stored message.
type messageData struct {
	Domain, Key, LogsURL, QueueURL string
	MessageID, From, To, Subject   string
	Sender                         string
	Recipients, Tags               []string
	Size                           int
	Created, Expires, Now          time.Time
	Headers                        [][2]string
	Text                           string
	// PreviewURL is the HTML preview's address, "" without an HTML part.
	PreviewURL, ImagesURL string
	// RawURL downloads the message as stored (.eml).
	RawURL       string
	RemoteImages bool
	// ResendURL takes the resend form ("" when this node cannot send).
	ResendURL string
	Files     []fileRow
	Attempts  []attemptRow
	Waiting   []waitingRow
}

type fileRow struct {
	URL, Name, ContentType string
	Size                   int
	Inline                 bool
}

type attemptRow struct {
	mgapi.QueueHistory
	At    time.Time
	Reply string
}

type waitingRow struct {
	mgapi.QueueWaiting
	Next time.Time
}

func (s *Server) messagePage(rq *request) error {
	sm, err := s.loadMessage(rq)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	st, err := delivery.QueueStatus(rq.r.Context(), s.Regional, sm.Domain, sm.MessageID, now)
	if err != nil {
		return err
	}
	p, base := sm.Parsed, messagePath(sm.Domain, sm.Key)
	d := messageData{
		Domain: sm.Domain, Key: sm.Key, MessageID: sm.MessageID, From: p.From, To: p.To, Subject: p.Subject,
		Sender: sm.Sender, Recipients: sm.Meta.Recipients, Tags: sm.Meta.Info.Tags, Size: sm.Size,
		Created: sm.CreatedAt, Expires: sm.ExpiresAt, Now: now, Headers: p.Headers, Text: p.Text,
		LogsURL:  logsPath + "?" + url.Values{"domain": {sm.Domain}}.Encode(),
		QueueURL: queuePath + "?" + url.Values{"domain": {sm.Domain}}.Encode(),
		RawURL:   base + "/raw",
	}
	if s.Send != nil {
		d.ResendURL = base + "/resend"
	}
	if p.HTML != "" {
		d.RemoteImages = rq.r.URL.Query().Get("images") == "remote"
		d.PreviewURL, d.ImagesURL = base+"/html", base+"?images=remote"
		if d.RemoteImages {
			d.PreviewURL, d.ImagesURL = base+"/html?images=remote", base
		}
	}
	for i, f := range p.Files {
		d.Files = append(d.Files, fileRow{URL: base + "/attachments/" + strconv.Itoa(i), Name: downloadName(f.Filename, i),
			ContentType: f.ContentType, Size: len(f.Data), Inline: f.Inline})
	}
	if st.Message != nil {
		for _, h := range st.Message.History {
			reply := smtpReply(h.Code, h.EnhancedCode, h.Reply)
			d.Attempts = append(d.Attempts, attemptRow{QueueHistory: h, At: time.Time(h.Time).UTC(), Reply: reply})
		}
		for _, w := range st.Message.Waiting {
			d.Waiting = append(d.Waiting, waitingRow{QueueWaiting: w, Next: time.Time(w.NextAttemptAt).UTC()})
		}
	}
	rq.w.Header().Set("Content-Security-Policy", messagePagePolicy)
	title := p.Subject
	if title == "" {
		title = "(no subject)"
	}
	return s.show(rq, "message", title, "logs", d)
}

// messageHTML serves the HTML part for the preview iframe, with inline
// parts resolved and the sandboxing policy.
func (s *Server) messageHTML(rq *request) error {
	sm, err := s.loadMessage(rq)
	if err != nil {
		return err
	}
	if sm.Parsed.HTML == "" {
		return fault.NotFoundf("This message has no HTML part.")
	}
	h := rq.w.Header()
	h.Set("Content-Security-Policy", previewPolicy)
	if rq.r.URL.Query().Get("images") == "remote" {
		h.Set("Content-Security-Policy", previewRemotePolicy)
	}
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, err = rq.w.Write([]byte(inlineParts(sm.Parsed.HTML, sm.Parsed.Files)))
	return err
}

// messageAttachment serves one attached (or inline) part as a download.
func (s *Server) messageAttachment(rq *request) error {
	sm, err := s.loadMessage(rq)
	if err != nil {
		return err
	}
	files := sm.Parsed.Files
	n, err := strconv.Atoi(rq.r.PathValue("n"))
	if err != nil || n < 0 || n >= len(files) {
		return fault.NotFoundf("This message has no attachment %s.", rq.r.PathValue("n"))
	}
	f := files[n]
	h := rq.w.Header()
	h.Set("Content-Type", attachmentType(f.ContentType))
	h.Set("Content-Disposition", attachmentDisposition(f.Filename, n))
	h.Set("Content-Security-Policy", attachmentPolicy)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, err = rq.w.Write(f.Data)
	return err
}

// attachmentType is the part's declared media type when it is one, and
// application/octet-stream otherwise.
func attachmentType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mt
}

// attachmentDisposition makes the part a download under its name.
func attachmentDisposition(name string, n int) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(name, n)}); v != "" {
		return v
	}
	return "attachment"
}

// downloadName is the name of part n as a file: its own name without any
// directory or control characters, or attachment-N when it has none.
func downloadName(name string, n int) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name))
	if name == "" || name == "." || name == ".." {
		name = "attachment-" + strconv.Itoa(n+1)
	}
	return name
}

var (
	cidRef    = regexp.MustCompile(`(?i)\bcid:([^"'\s()<>]+)`)
	imageType = regexp.MustCompile(`^image/[a-z0-9][a-z0-9.+-]*$`)
)

// inlineParts replaces cid: references to inline images by data: URLs,
// the only images the preview's policy lets through by default.
func inlineParts(html string, files []mail.ParsedFile) string {
	byID := map[string]mail.ParsedFile{}
	for _, f := range files {
		if f.ContentID != "" && imageType.MatchString(strings.ToLower(f.ContentType)) {
			byID[strings.ToLower(f.ContentID)] = f
		}
	}
	if len(byID) == 0 {
		return html
	}
	return cidRef.ReplaceAllStringFunc(html, func(ref string) string {
		id, err := url.PathUnescape(ref[len("cid:"):])
		if err != nil {
			return ref
		}
		f, ok := byID[strings.ToLower(id)]
		if !ok {
			return ref
		}
		return "data:" + strings.ToLower(f.ContentType) + ";base64," + base64.StdEncoding.EncodeToString(f.Data)
	})
}

// smtpReply is an SMTP reply as the dashboard shows it: the code, the
// enhanced status code (RFC 3463) and the text, without repeating an
// enhanced code the text already starts with.
func smtpReply(code int, enhanced, text string) string {
	text = strings.TrimSpace(text)
	if enhanced != "" && (text == enhanced || strings.HasPrefix(text, enhanced+" ")) {
		enhanced = ""
	}
	return strings.Join(nonEmpty(codeText(code), enhanced, text), " ")
}

// maxResendRecipients bounds a resend's recipients (Mailgun's limit of a
// message's recipients).
const maxResendRecipients = 1000

// resendMessage sends the stored message again to other recipients, as
// POST /v3/domains/{d}/messages/{key} does: the same stored content, tags,
// variables and options, a new Message-Id, and so its own events.
func (s *Server) resendMessage(rq *request) (result, error) {
	domain, key := rq.r.PathValue("domain"), rq.r.PathValue("key")
	res := result{To: messagePath(domain, key)}
	var to []string
	for _, line := range strings.FieldsFunc(rq.r.PostFormValue("to"), func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if a := strings.TrimSpace(line); a != "" {
			to = append(to, a)
		}
	}
	switch {
	case len(to) == 0:
		return res, fault.Invalidf("Enter at least one address to resend the message to.")
	case len(to) > maxResendRecipients:
		return res, fault.Invalidf("A resend goes to at most %d addresses; this one has %d.", maxResendRecipients, len(to))
	case s.Send == nil:
		return res, fault.Invalidf("Sending is not set up on this node.")
	}
	sm, err := s.loadMessage(rq)
	if err != nil {
		return res, err
	}
	dom, err := s.Domains.Get(rq.r.Context(), sm.Domain)
	if err != nil {
		return res, err
	}
	sub := &send.Submission{Domain: dom, Method: "http", OriginatingIP: remoteIP(rq.r),
		MIME: mail.RemoveHeader(sm.Body, "Message-Id"), To: to, Tags: sm.Meta.Info.Tags, Options: sm.Meta.Options, Vars: sm.Meta.Vars}
	sub.Options.DeliveryTime = 0
	out, err := s.Send.Send(rq.r.Context(), sub)
	if err != nil {
		return res, err
	}
	s.Log.Info("message resent", "domain", sm.Domain, "key", key, "msg_id", out.ID, "recipients", len(to), "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Resent to " + strings.Join(to, ", ") + " as " + out.ID + "; follow it in Logs."
	return res, nil
}

// remoteIP is the address the request came from, without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
