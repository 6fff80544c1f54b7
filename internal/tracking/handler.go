package tracking

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// LocalPrefix is the path under which tracking URLs are served on any
// host (--tracking-base-url).
const LocalPrefix = "/t/"

// Match reports whether r is a tracking request: its path is under
// LocalPrefix, or its Host is a domain's tracking host. publicHost (the
// API's own host) is never a tracking host.
func (s *Service) Match(r *http.Request, publicHost string) bool {
	if strings.HasPrefix(r.URL.Path, LocalPrefix) {
		return true
	}
	if r.Host == "" || strings.EqualFold(r.Host, publicHost) {
		return false
	}
	return s.trackingDomain(r.Context(), r.Host) != ""
}

// ServeHTTP serves /o/<token> (the pixel), /c/<token> (the redirect) and
// /u/<token> (the unsubscribe page and RFC 8058 one-click POST), under
// LocalPrefix or on a tracking host.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, local := strings.CutPrefix(r.URL.Path, LocalPrefix)
	if !local {
		path = strings.TrimPrefix(path, "/")
	}
	kind, text, ok := strings.Cut(path, "/")
	if !ok || len(kind) != 1 || strings.Contains(text, "/") {
		notFound(w)
		return
	}
	t, err := s.seal.open(text, kind[0])
	if err == nil && !local && s.trackingDomain(r.Context(), r.Host) != t.domain {
		err = errBadToken // a token of another domain on this host
	}
	if err != nil {
		notFound(w)
		return
	}
	switch t.kind {
	case kindOpen:
		s.open(w, r, t)
	case kindClick:
		s.click(w, r, t)
	case kindUnsub:
		s.unsubscribe(w, r, t)
	}
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "Not Found\n")
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func (s *Service) open(w http.ResponseWriter, r *http.Request, t token) {
	if !getOrHead(w, r) {
		return
	}
	if r.Method == http.MethodGet {
		s.record(r, t, events.Opened, "")
	}
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	_, _ = w.Write(pixel)
}

func (s *Service) click(w http.ResponseWriter, r *http.Request, t token) {
	if !getOrHead(w, r) {
		return
	}
	// HEAD (link checkers, previews) follows without counting a click.
	if r.Method == http.MethodGet {
		s.record(r, t, events.Clicked, t.url)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", t.url)
	w.WriteHeader(http.StatusFound)
}

// record queues an opened or clicked event for writing. Failing to write
// it does not keep the reader from the pixel or the link: it is logged.
func (s *Service) record(r *http.Request, t token, typ, url string) {
	ev := s.event(r, t, typ, url)
	if err := s.enqueue(r.Context(), ev); err != nil && r.Context().Err() == nil {
		s.deps.Log.Error("record tracking event", "event", typ, "domain", t.domain, "msg_key", t.messageKey, "err", err)
	}
}

func (s *Service) event(r *http.Request, t token, typ, url string) store.Event {
	return s.eventFrom(r.Context(), clientIP(r), r.UserAgent(), t, typ, url)
}

// eventFrom is an engagement event of t from a client at ip with the
// User-Agent ua (both empty for mail).
func (s *Service) eventFrom(ctx context.Context, ip, ua string, t token, typ, url string) store.Event {
	info, _ := s.messageInfo(ctx, t.domain, t.messageKey)
	return events.NewEngagement(&info, typ, t.recipient, events.Engagement{
		IP: ip, URL: url, Client: ClientInfo(ua),
		Geolocation: mgapi.Geolocation{Country: "Unknown", Region: "Unknown", City: "Unknown"},
	}, s.deps.Now())
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// unsubscribe serves the unsubscribe link: GET shows a page with a button
// (so that link scanners unsubscribe no one), POST unsubscribes — the
// page's form, or an RFC 8058 one-click POST from a mail client, whose
// body is List-Unsubscribe=One-Click and which needs no page.
func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request, t token) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.page(w, t, false)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		_ = r.ParseForm() // an unreadable body is a plain confirmation
		if err := s.doUnsubscribe(r.Context(), r, t); err != nil {
			s.deps.Log.Error("unsubscribe", "domain", t.domain, "msg_key", t.messageKey, "err", err)
			http.Error(w, "Could not unsubscribe now; please try again later.", http.StatusServiceUnavailable)
			return
		}
		if r.PostForm.Get("List-Unsubscribe") == "One-Click" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "Unsubscribed\n")
			return
		}
		s.page(w, t, true)
	default:
		notAllowed(w, "GET, HEAD, POST")
	}
}

// getOrHead reports whether r is a GET or HEAD, and answers 405 if not.
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	notAllowed(w, "GET, HEAD")
	return false
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// doUnsubscribe records the unsubscribe of t's scope.
func (s *Service) doUnsubscribe(ctx context.Context, r *http.Request, t token) error {
	return s.unsubscribeWith(ctx, t, s.event(r, t, events.Unsubscribed, ""))
}

// unsubscribeWith records the unsubscribe of t's scope with its event ev.
func (s *Service) unsubscribeWith(ctx context.Context, t token, ev store.Event) error {
	now := s.deps.Now().UTC().Truncate(time.Microsecond)
	rec := store.Suppression{Domain: t.domain, List: store.Unsubscribes, Address: strings.ToLower(t.recipient),
		Tags: []string{"*"}, CreatedAt: now}
	switch t.scope {
	case scopeTags:
		if len(t.tags) > 0 {
			rec.Tags = t.tags
		}
	case scopeList:
		if s.deps.Lists == nil {
			return errors.New("mailing lists are not available")
		}
		if err := s.deps.Lists.Unsubscribe(ctx, t.list, t.recipient); err != nil && !errors.Is(err, store.ErrNotFound) && !isNotFound(err) {
			return err
		}
		return s.deps.Store.AppendEvents(ctx, []store.Event{ev})
	}
	_, err := s.deps.Store.Unsubscribe(ctx, rec, ev)
	return err
}

// isNotFound reports a 404 from a service (the member or list is gone:
// there is nothing to unsubscribe from, which is what was asked).
func isNotFound(err error) bool {
	return fault.KindOf(err) == fault.NotFound
}

var pageTmpl = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{if .Done}}Unsubscribed{{else}}Unsubscribe{{end}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font:inherit;padding:.5rem 1.25rem;border-radius:.375rem;border:1px solid #555;background:#222;color:#fff;cursor:pointer}</style>
</head><body>
{{if .Done}}<h1>You have been unsubscribed</h1>
<p id="done"><strong>{{.Address}}</strong> will no longer receive {{.What}}.</p>
{{else}}<h1>Unsubscribe</h1>
<p>Stop sending {{.What}} to <strong>{{.Address}}</strong>?</p>
<form method="post"><button type="submit" id="unsubscribe">Unsubscribe</button></form>
{{end}}</body></html>
`))

func (s *Service) page(w http.ResponseWriter, t token, done bool) {
	what := "emails from " + t.domain
	switch t.scope {
	case scopeTags:
		if len(t.tags) > 0 {
			what = "emails tagged " + strings.Join(t.tags, ", ") + " from " + t.domain
		}
	case scopeList:
		what = "emails of the mailing list " + t.list
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = pageTmpl.Execute(w, struct {
		Done          bool
		Address, What string
	}{done, t.recipient, what})
}

// mailToken reads the token of an unsubscribe address: u+<token>@ the
// tracking host of the token's domain (or the domain itself, with
// --tracking-base-url).
func (s *Service) mailToken(ctx context.Context, rcpt string) (token, bool) {
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 {
		return token{}, false
	}
	t, err := s.seal.openEmail(rcpt[:at])
	if err != nil {
		return token{}, false
	}
	host := strings.ToLower(rcpt[at+1:])
	if host != t.domain && s.trackingDomain(ctx, host) != t.domain {
		return token{}, false
	}
	return t, true
}

// IsUnsubscribeAddress implements inbound.Unsubscriber.
func (s *Service) IsUnsubscribeAddress(ctx context.Context, rcpt string) bool {
	_, ok := s.mailToken(ctx, rcpt)
	return ok
}

// UnsubscribeByMail implements inbound.Unsubscriber: mail to an
// unsubscribe address unsubscribes as the link does.
func (s *Service) UnsubscribeByMail(ctx context.Context, rcpt string) error {
	t, ok := s.mailToken(ctx, rcpt)
	if !ok {
		return errBadToken
	}
	return s.unsubscribeWith(ctx, t, s.eventFrom(ctx, "", "", t, events.Unsubscribed, ""))
}
