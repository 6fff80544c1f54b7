// Package api serves Mailgun's HTTP API.
//
// Every endpoint is a route with an access class (auth.Access) and a handler
// that returns a value to write as JSON with status 200, or an error. Errors
// become HTTP in exactly one place, writeError: a *fault.Error's Kind
// becomes Mailgun's status (fault.Kind.HTTPStatus) and its message Mailgun's text,
// store.ErrNotFound is 404, store.ErrConflict is 409, anything else is
// logged and answered 500 without details. Handlers never write status
// codes for client mistakes themselves.
//
// Order of work for a request: match the route (404/405), authenticate and
// authorize (401, or 429 for an address that keeps failing), check that a
// {domain} in the path lives in this region (404), and only then read the
// body, bounded by MaxRequestBytes (413). Parameters a handler does not
// know are ignored and named in the X-Salvo-Ignored-Params response header
// and a debug log line.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/egress"
	"github.com/salvo-email/salvo/internal/exports"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/shaping"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
	"github.com/salvo-email/salvo/internal/templates"
	"github.com/salvo-email/salvo/internal/validate"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// Deps are what the API needs.
type Deps struct {
	Log     *slog.Logger
	Metrics *obs.Metrics
	Auth    *auth.Authenticator
	Limiter *auth.Limiter
	Keys    *auth.Keys
	// Credentials manages SMTP credentials (routes_smtp.go).
	Credentials *auth.Credentials
	Domains     *domains.Service
	Send        *send.Service
	Importer    *suppress.Importer
	Templates   *templates.Service
	Lists       *lists.Service
	Regional    store.Regional
	Region      string
	PublicURL   string
	MaxBody     int64
	Now         func() time.Time
	// DestinationHealth lists the destinations this node's delivery
	// engine knows to be down, for the queue view (nil: none).
	DestinationHealth func() []mgapi.QueueHealth
	// Shaping lists this node's traffic shaping state (limits in force,
	// back-offs and why) for the queue view (nil: none).
	Shaping func() []shaping.State
	// Egress refuses webhook and route URLs whose literal address the
	// node may not reach (nil: no check).
	Egress *egress.Policy
	// Sources are the node's source addresses (--source-ips; nil: none).
	Sources *ips.Set
	// WebhookTester posts the sample events of webhook tests (nil: the
	// test endpoint answers 503; app always sets it).
	WebhookTester *webhooks.Tester
	// Validator answers address validation (nil: those routes answer 503).
	Validator *validate.Validator
	// Exports runs /v3/exports (nil: those routes answer 503).
	Exports *exports.Service
}

// Server is the API's http.Handler.
type Server struct {
	Deps
	rt    router
	ready atomic.Bool
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d}
	s.routes()
	return s
}

// SetReady makes /healthz answer 200.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// Ctx is one request as handlers see it.
type Ctx struct {
	W   http.ResponseWriter
	R   *http.Request
	P   *mgapi.Params
	Key store.Key
	// Tenant is the account the request acts in (the key's account, or
	// the subaccount its X-Mailgun-On-Behalf-Of names).
	Tenant auth.Tenant
	Domain store.Domain // set for routes with a {domain} variable
	vars   map[string]string
}

// Var returns a path variable.
func (c *Ctx) Var(name string) string { return c.vars[name] }

// handlerFunc returns a value written as JSON with 200, or an error. A
// handler that wrote the response itself returns (nil, nil).
type handlerFunc func(c *Ctx) (any, error)

func (s *Server) handle(method, pattern string, access auth.Access, h handlerFunc) {
	s.rt.add(&route{method: method, pattern: pattern, access: access, h: h})
}

// Routes lists every registered route as "METHOD pattern access", for the
// authorization matrix test and the docs.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(s.rt.all))
	for _, r := range s.rt.all {
		out = append(out, RouteInfo{Method: r.method, Pattern: r.pattern, Access: r.access})
	}
	return out
}

// RouteInfo describes a route.
type RouteInfo struct {
	Method  string
	Pattern string
	Access  auth.Access
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &obs.StatusWriter{ResponseWriter: w}
	label := "unmatched"
	defer func() {
		if v := recover(); v != nil {
			s.Metrics.Recovered(s.Log, "http "+r.Method+" "+label, v)
			if sw.Status == 0 {
				s.writeError(sw, r, false, errors.New("panic"))
			}
		}
		s.Metrics.HTTPRequests.WithLabelValues(label, strconv.Itoa(sw.Status)).Inc()
	}()
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		s.writeError(sw, r, false, fault.Invalidf("unable to parse request: invalid URL escape"))
		return
	}
	rt, vars, allowed := s.rt.match(r.Method, segs)
	if rt == nil {
		if len(allowed) > 0 {
			sw.Header().Set("Allow", strings.Join(allowed, ", "))
			writeMessage(sw, http.StatusMethodNotAllowed, "", "Method "+r.Method+" is not allowed on "+r.URL.Path, nil)
			return
		}
		s.writeError(sw, r, false, fault.NotFoundf("Not Found: no endpoint %s %s", r.Method, r.URL.Path))
		return
	}
	label = rt.method + " " + rt.pattern
	s.serveRoute(sw, r, rt, vars)
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt *route, vars map[string]string) {
	plain := rt.access == auth.Send
	c := &Ctx{W: w, R: r, vars: vars}
	if rt.access != auth.Public {
		key, err := s.authenticate(r, rt, vars)
		if err != nil {
			s.writeError(w, r, plain, err)
			return
		}
		c.Key = key
		tenant, err := s.tenant(r, rt, key)
		if err != nil {
			s.writeError(w, r, plain, err)
			return
		}
		c.Tenant = tenant
	}
	if rt.access != auth.Public {
		dom, err := s.regionDomain(r, vars, c.Tenant)
		if err != nil {
			s.writeError(w, r, false, err)
			return
		}
		c.Domain = dom
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody)
	p, err := mgapi.ParseParams(r, s.MaxBody)
	if err != nil {
		s.writeError(w, r, false, err)
		return
	}
	defer p.Close()
	p.OnIgnore = func(names []string) {
		joined := ignoredHeader(names)
		w.Header().Set(IgnoredParamsHeader, joined)
		s.Log.Debug("ignored unknown parameters", "route", rt.method+" "+rt.pattern, "params", joined, "count", len(names))
	}
	c.P = p
	v, err := rt.h(c)
	if err != nil {
		s.writeError(w, r, false, err)
		return
	}
	if v != nil {
		writeJSON(w, http.StatusOK, v)
	}
}

// IgnoredParamsHeader names, on any response, the request parameters the
// endpoint does not know and ignored (as Mailgun ignores them).
const IgnoredParamsHeader = "X-Salvo-Ignored-Params"

// ignoredHeader joins names for IgnoredParamsHeader as printable ASCII
// (other bytes become '?'), each name cut at 100 bytes and the whole cut
// short (", ...") past 1,000 bytes, so that a request with odd or
// thousands of unknown parameters cannot make a bad or huge header.
func ignoredHeader(names []string) string {
	const maxName, maxHeader = 100, 1000
	var b strings.Builder
	for i, n := range names {
		if len(n) > maxName {
			n = n[:maxName] + "..."
		}
		if i > 0 {
			if b.Len()+len(n) > maxHeader {
				b.WriteString(", ...")
				break
			}
			b.WriteString(", ")
		}
		for j := 0; j < len(n); j++ {
			if c := n[j]; c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}

var (
	errUnauthorized = fault.Unauthorizedf("Invalid private key")
	errThrottled    = fault.TooManyf("Too many failed authentication attempts from your address; try again later")
)

// authenticate returns the caller's key if it may use rt.
func (s *Server) authenticate(r *http.Request, rt *route, vars map[string]string) (store.Key, error) {
	addr := clientAddr(r)
	_, presented, _ := r.BasicAuth()
	key, err := s.Auth.Authenticate(r.Context(), presented)
	if errors.Is(err, auth.ErrInvalid) {
		s.Metrics.AuthFailures.Inc()
		throttled, wait := s.Limiter.Throttled(addr)
		s.Limiter.Fail(addr)
		if throttled {
			e := *errThrottled
			e.RetryAfter = time.Duration(int(wait.Seconds())+1) * time.Second
			return key, &e
		}
		return key, errUnauthorized
	}
	if err != nil {
		return key, err
	}
	if !auth.Allowed(key, rt.access, rt.method, vars["domain"]) {
		s.Log.Info("key not allowed on route", "key_id", key.ID, "role", key.Role, "route", rt.method+" "+rt.pattern)
		return key, notAllowed(key, rt.method+" "+rt.pattern)
	}
	return key, nil
}

// stillAuthorized checks the request's key again (a cached read): a send
// re-checks it after its body was read, just before the accept is
// written, so a key deleted or disabled meanwhile sends nothing; nor does
// a subaccount disabled meanwhile (one more read, for subaccounts only).
func (s *Server) stillAuthorized(ctx context.Context, r *http.Request) error {
	_, presented, _ := r.BasicAuth()
	key, err := s.Auth.Authenticate(ctx, presented)
	if errors.Is(err, auth.ErrInvalid) {
		s.Log.Info("key revoked while its request was read", "path", r.URL.Path)
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	// A subaccount disabled meanwhile sends nothing either.
	t, err := s.Auth.Tenant(ctx, key, r.Header.Get(auth.OnBehalfOfHeader))
	if err == nil && t.Disabled() {
		return auth.ErrSubaccountDisabled
	}
	if errors.Is(err, auth.ErrInvalid) {
		return errUnauthorized
	}
	return err
}

// notAllowed is the 401 of a valid key that may not use a route: Mailgun's
// "Invalid private key", then what the key is and what it may do, so the
// caller need not guess whether the key is wrong or only misplaced. (The
// send routes answer a plain "Forbidden" whatever the message.)
func notAllowed(k store.Key, route string) *fault.Error {
	why := "a key with role " + k.Role + " may not use " + route
	if k.Role == store.RoleSending {
		why = "a sending key may only send mail for its domain " + k.DomainName + " (POST /v3/" + k.DomainName +
			"/messages and /messages.mime), not use " + route + "; use the primary key or an admin key"
	}
	return fault.Unauthorizedf("Invalid private key: %s", why)
}

// regionDomain loads the domain a route is about, before anything else
// is looked at: {domain} (Mailgun answers "Domain not found: <d>") or
// {name} of /vN/domains/{name}… ("Domain not found"). A domain of another
// region is not found here: this node never reads another region's data.
//
// A domain another account owns is not found either: domain-scoped data
// (messages, events, suppressions, webhooks, templates, tags, stats,
// credentials, tracking) belongs to the account that owns the domain.
func (s *Server) regionDomain(r *http.Request, vars map[string]string, t auth.Tenant) (store.Domain, error) {
	name, ok := vars["domain"]
	msg := "Domain not found: " + name
	if !ok {
		if name, ok = vars["name"]; !ok {
			return store.Domain{}, nil
		}
		msg = "Domain not found"
	}
	dom, err := s.Regional.Domain(r.Context(), strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Owns(dom.AccountID)) {
		return store.Domain{}, fault.NotFoundf("%s", msg)
	}
	return dom, err
}

// tenant decides the account the request acts in (auth.Tenant) and
// refuses what that account may not do: a disabled subaccount may not
// send, and only the parent account itself (no subaccount key, no
// X-Mailgun-On-Behalf-Of) manages subaccounts and the installation's
// shared settings (IP pools, the webhook signing key).
func (s *Server) tenant(r *http.Request, rt *route, key store.Key) (auth.Tenant, error) {
	t, err := s.Auth.Tenant(r.Context(), key, r.Header.Get(auth.OnBehalfOfHeader))
	if errors.Is(err, auth.ErrInvalid) {
		return t, errUnauthorized
	}
	if err != nil {
		return t, err
	}
	if rt.access == auth.Send && t.Disabled() {
		return t, auth.ErrSubaccountDisabled
	}
	if !t.Primary() && parentOnly(rt) {
		return t, &fault.Error{Kind: fault.Forbidden, Message: "Forbidden: " + rt.method + " " + rt.pattern +
			" belongs to the parent account; a subaccount (or " + auth.OnBehalfOfHeader + ") may not use it"}
	}
	return t, nil
}

// parentOnly lists the routes a subaccount may not use: subaccount
// management, and changes to what the whole installation shares.
func parentOnly(rt *route) bool {
	if strings.HasPrefix(rt.pattern, "/v5/accounts/subaccounts") {
		return true
	}
	if rt.method == http.MethodGet || rt.method == http.MethodHead {
		return false
	}
	return strings.HasPrefix(rt.pattern, "/v3/ip_pools") || strings.HasPrefix(rt.pattern, "/v3/ips") ||
		rt.pattern == "/v5/accounts/http_signing_key"
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeError is the one place errors become HTTP responses. plain selects
// the send endpoints' text/plain "Forbidden" body for 401s.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, plain bool, err error) {
	var (
		status int
		f      *fault.Error
	)
	if ff, ok := fault.As(err); ok {
		status, f = ff.Kind.HTTPStatus(), ff
	} else {
		switch {
		case errors.Is(err, store.ErrNotFound):
			f = fault.NotFoundf("Not found")
		case errors.Is(err, store.ErrConflict):
			f = fault.Conflictf("Conflict: it already exists")
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			return // the client went away
		default:
			s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			f = fault.New(fault.Internal, "Internal Server Error")
		}
		status = f.Kind.HTTPStatus()
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	if plain && status == http.StatusUnauthorized {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		if status == http.StatusUnauthorized {
			_, _ = w.Write([]byte("Forbidden"))
		} else {
			_, _ = w.Write([]byte(f.Message))
		}
		return
	}
	writeMessage(w, status, f.Key, f.Message, f.Extra)
}

// writeMessage writes Mailgun's error body: the message under key
// ("message" when empty), and the extra keys beside it.
func writeMessage(w http.ResponseWriter, status int, key, msg string, extra map[string]any) {
	if key == "" {
		key = "message"
	}
	body := map[string]any{key: msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) healthz(c *Ctx) (any, error) {
	if !s.ready.Load() {
		return nil, fault.Unavailablef("starting")
	}
	c.W.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = c.W.Write([]byte("ok\n"))
	return nil, nil
}

func (s *Server) metrics(c *Ctx) (any, error) {
	promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP(c.W, c.R)
	return nil, nil
}
