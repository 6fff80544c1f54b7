// Package web serves Salvo's dashboard under /dashboard/: the pages a
// person uses instead of the API (an overview, domains and their DNS
// records, sending keys, SMTP credentials, webhooks and their tests, the
// primary and webhook signing keys, users, the logs of what was sent, the
// queue, suppressions, stats, tags, templates, mailing lists, inbound
// routes, the Inbox of what capture mode kept, the node's IPs and IP
// pools, and the subaccounts).
//
// Invariants:
//   - Every page but the login form and the static assets needs a session
//     (a user's email and password); API keys, in any header, never
//     authenticate a dashboard request.
//   - Every state-changing request is a POST that carries the session's
//     CSRF token (checked in constant time); the login form carries a
//     double-submit token of its own.
//   - The primary key appears only in the response to the eye icon's POST,
//     and a new sending key's secret or a generated SMTP password only in
//     the one page shown after its creation (a sealed one-time flash); a
//     password typed into a form is never shown; pages are never cached.
//   - The dashboard works through the same services as the API (auth.Keys,
//     auth.Credentials, domains.Service, events.Fetch, delivery.QueueStatus, suppress.Record
//     and suppress.Importer, stats.Total, the webhooks edits,
//     webhooks.Attempts and webhooks.Tester, templates.Service,
//     lists.Service, send.Service, the routes engine, ippools.Service); it
//     never touches SQL.
//   - Every page acts in one account, chosen in the header's switcher (a
//     cookie sealed for the session; the parent by default): lists show
//     that account's domains, keys, routes and lists, and one check
//     (checkScope) answers 404 for another account's domain, route or list,
//     as the API does with X-Mailgun-On-Behalf-Of. The Subaccounts, IPs
//     and Users pages stay parent-level.
//   - A request body is at most 64 KB, except a CSV upload (25 MB); a
//     body over its limit is a 413, not a missing CSRF token.
//   - A message's own HTML, and a template's preview, is shown only in a
//     sandboxed iframe (no scripts, an opaque origin) from a route whose
//     Content-Security-Policy blocks scripts and remote content; a
//     message's attachments are only ever downloads.
//   - The webhook signing key, like the primary key, appears only in the
//     response to its eye icon's POST.
//
// Failure rules: handlers return errors, and one place, fail, renders them:
// a *fault.Error with its status and text, store.ErrNotFound as 404, and
// anything else as a logged 500 without details. A form's client error
// (4xx) goes back to the form's page as a one-time error message.
package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/egress"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ippools"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/shaping"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
	"github.com/salvo-email/salvo/internal/templates"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// Deps are what the dashboard needs.
type Deps struct {
	Log      *slog.Logger
	Metrics  *obs.Metrics
	Keys     *auth.Keys
	Users    *auth.Users
	Sessions *auth.Sessions
	Throttle *auth.LoginThrottle
	Domains  *domains.Service
	// Credentials manages the domains' SMTP credentials (the service
	// behind /v3/domains/{d}/credentials).
	Credentials *auth.Credentials
	// SMTPServer says where applications send over SMTP, for the SMTP
	// credentials page (nil: the page does not say).
	SMTPServer func() SMTPServer
	// WebhookTester posts the Webhooks tab's test events (nil: no Test
	// button).
	WebhookTester *webhooks.Tester
	// Send accepts the Templates page's test sends (the send use case
	// behind POST /v3/{domain}/messages; nil: no test sends).
	Send *send.Service
	// Templates is the templates service behind /v3/{domain}/templates.
	Templates *templates.Service
	// Pools is the IP pools service behind /v3/ip_pools and
	// /v3/domains/{d}/ips, with the node's source addresses (the IPs and
	// pools page).
	Pools *ippools.Service
	// Subaccounts keeps the subaccounts (global data) that
	// /v5/accounts/subaccounts manages, for the Subaccounts page.
	Subaccounts store.SubaccountStore
	// Lists is the mailing lists service behind /v3/lists.
	Lists *lists.Service
	// Importer runs the suppression CSV imports the Suppressions pages
	// submit (the same background import as the API's).
	Importer *suppress.Importer
	// Regional is this region's store: the Logs, message and queue pages
	// read it through events.Fetch and delivery.QueueStatus.
	Regional store.Regional
	// Egress refuses webhook URLs whose literal address the node may not
	// reach (nil: no check).
	Egress *egress.Policy
	// DestinationHealth lists the destinations this node's delivery
	// engine knows to be down, for the queue page (nil: none).
	DestinationHealth func() []mgapi.QueueHealth
	// Shaping lists this node's traffic shaping state (limits in force,
	// back-offs and why) for the queue page (nil: none).
	Shaping func() []shaping.State
	// Now is the clock (time.Now in production).
	Now func() time.Time
	// Region is the region this node serves, shown in the header.
	Region string
	// OtherRegionURL is the other region's node (its dashboard is linked
	// from the header); empty when not configured.
	OtherRegionURL string
	// PublicURL decides the cookies' Secure flag (https://…).
	PublicURL string
	// Capture tells the Inbox whether this node runs in capture mode
	// (--capture): its copies are kept, not sent.
	Capture bool
}

// SMTPServer is how applications reach the SMTP relay: the host name
// users are told (--smtp-host) and the listening ports, "" for a
// listener that is off.
type SMTPServer struct {
	Host                  string
	STARTTLSPort, TLSPort string
	// InsecureLoopback: AUTH without TLS is allowed from loopback.
	InsecureLoopback bool
}

// Route describes a dashboard route for tests and docs. Method is empty
// for a route that takes any method.
type Route struct {
	Method  string
	Pattern string
	// Public routes need no session (the login form, static assets).
	Public bool
}

// Server is the dashboard's http.Handler.
type Server struct {
	Deps
	mux    *http.ServeMux
	pages  map[string]*template.Template
	routes []Route
}

// New builds the dashboard.
func New(d Deps) (*Server, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, mux: http.NewServeMux(), pages: pages}
	s.register()
	return s, nil
}

// Routes lists every registered route.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Dashboard paths.
const (
	prefix      = "/dashboard"
	loginPath   = prefix + "/login"
	domainsPath = prefix + "/domains"
	apiKeysPath = prefix + "/account/api-keys"
	usersPath   = prefix + "/account/users"
)

func (s *Server) register() {
	s.public("GET "+loginPath, http.HandlerFunc(s.loginPage))
	s.public("POST "+loginPath, http.HandlerFunc(s.login))
	s.public("GET "+prefix+"/static/", staticHandler())
	s.call("POST "+prefix+"/logout", s.logout)
	s.form("POST "+switchPath, s.switchAccount)
	s.page("GET "+prefix+"/{$}", s.overviewPage)
	s.page(prefix+"/", func(rq *request) error { return fault.NotFoundf("There is no page at %s.", rq.r.URL.Path) })

	s.page("GET "+apiKeysPath, s.apiKeysPage)
	s.call("POST "+apiKeysPath+"/primary/reveal", s.revealPrimary)
	s.page("GET "+apiKeysPath+"/primary/rotate", s.rotatePage)
	s.form("POST "+apiKeysPath+"/primary/rotate", s.rotatePrimary)
	s.form("POST "+apiKeysPath+"/{id}/revoke", s.revokeKey)
	s.page("GET "+usersPath, s.usersPage)
	s.form("POST "+usersPath, s.addUser)
	s.call("POST "+usersPath+"/{user}/delete", s.deleteUser)
	s.form("POST "+usersPath+"/password", s.changePassword)

	s.page("GET "+domainsPath, s.domainsPage)
	s.form("POST "+domainsPath, s.addDomain)
	s.page("GET "+domainsPath+"/{name}", s.domainPage)
	s.form("POST "+domainsPath+"/{name}/verify", s.verifyDomain)
	s.page("GET "+domainsPath+"/{name}/settings/sending-keys", s.sendingKeysPage)
	s.form("POST "+domainsPath+"/{name}/settings/sending-keys", s.addSendingKey)
	s.form("POST "+domainsPath+"/{name}/settings/sending-keys/{id}/revoke", s.revokeSendingKey)
	s.page("GET "+domainsPath+"/{name}/settings/tracking", s.trackingPage)
	s.form("POST "+domainsPath+"/{name}/settings/tracking", s.saveTracking)
	s.page("GET "+domainsPath+"/{name}/settings/connection", s.connectionPage)
	s.form("POST "+domainsPath+"/{name}/settings/connection", s.saveConnection)
	s.logsRoutes()
	s.credentialsRoutes()
	s.webhooksRoutes()
	s.suppressRoutes()
	s.statsRoutes()
	s.inboxRoutes()
	s.routesRoutes()
	s.tagsRoutes()
	s.listsRoutes()
	s.templatesRoutes()
	s.ipsRoutes()
	s.subaccountsRoutes()
	// Last, so that tests that submit every form in order delete the
	// domain after the forms that need it.
	s.form("POST "+domainsPath+"/{name}/delete", s.deleteDomain)
}

func (s *Server) add(pattern string, public bool, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	s.routes = append(s.routes, Route{Method: method, Pattern: path, Public: public})
	s.mux.Handle(pattern, h)
}

// request is one authenticated request as handlers see it.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	ses   auth.Session
	flash flash
	// tenant is the account the dashboard acts in for this session (the
	// header's switcher): the parent, or one of its subaccounts.
	tenant auth.Tenant
}

// result is where a form goes after it did its work, and what the next
// page says once.
type result struct {
	To    string
	Flash flash
}

// public registers a route that needs no session.
func (s *Server) public(pattern string, h http.Handler) { s.add(pattern, true, h) }

// page registers a page that needs a session.
func (s *Server) page(pattern string, h func(*request) error) {
	s.add(pattern, false, s.authed(false, maxForm, h))
}

// call registers a POST that needs a session and its CSRF token and
// writes its own response.
func (s *Server) call(pattern string, h func(*request) error) {
	s.add(pattern, false, s.authed(true, maxForm, h))
}

// form registers a POST that needs a session and its CSRF token and then
// redirects (303) to a page, with a one-time message for it. A client
// error goes back to res.To as an error message.
func (s *Server) form(pattern string, h func(*request) (result, error)) {
	s.add(pattern, false, s.authed(true, maxForm, s.redirect(h)))
}

// upload registers a form like form whose body, a multipart upload, may
// be as large as limit.
func (s *Server) upload(pattern string, limit int64, h func(*request) (result, error)) {
	s.add(pattern, false, s.authed(true, limit, s.redirect(h)))
}

// redirect turns a form's result into its 303 and one-time message.
func (s *Server) redirect(h func(*request) (result, error)) func(*request) error {
	return func(rq *request) error {
		res, err := h(rq)
		if err != nil {
			f, ok := fault.As(err)
			if res.To == "" || !ok || !f.Kind.Client() {
				return err
			}
			res.Flash = flash{Error: f.Message, Form: keptForm(rq.r)}
		}
		if res.Flash.Notice != "" || res.Flash.Error != "" || res.Flash.Secret != "" || res.Flash.Password != "" {
			if err := s.setFlash(rq, res.Flash); err != nil {
				return err
			}
		}
		http.Redirect(rq.w, rq.r, res.To, http.StatusSeeOther)
		return nil
	}
}

// ServeHTTP implements http.Handler: security headers, panic recovery and
// metrics around the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pagePolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	sw := &obs.StatusWriter{ResponseWriter: w}
	defer func() {
		route := "dashboard " + r.Pattern
		if v := recover(); v != nil {
			s.Metrics.Recovered(s.Log, "http "+route, v)
			if sw.Status == 0 {
				http.Error(sw, "Internal Server Error", http.StatusInternalServerError)
			}
		}
		s.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(sw.Status)).Inc()
	}()
	s.mux.ServeHTTP(sw, r)
}

// pagePolicy is the Content-Security-Policy of every dashboard response
// unless its handler sets a stricter or more specific one.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// noStore marks a response as never to be cached: pages show keys and
// account data.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// timeFormat is how the dashboard shows dates.
const timeFormat = "Jan 2, 2006 15:04 MST"

func showTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}
