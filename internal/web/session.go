package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
)

// Cookie names. The session cookie is HttpOnly and SameSite=Lax; the login
// form's double-submit cookie is SameSite=Strict.
const (
	sessionCookie = "salvo_session"
	loginCookie   = "salvo_login"
	csrfField     = "csrf"
	// maxForm bounds a dashboard request body.
	maxForm = 64 << 10
)

// errCSRF answers a state-changing request without a valid CSRF token.
var errCSRF = fault.Forbiddenf("This form has expired or did not come from this dashboard. Reload the page and try again.")

// flash is a one-time message for the next page of a session.
type flash struct {
	Notice string `json:"notice,omitempty"`
	Error  string `json:"error,omitempty"`
	// Secret is a new sending key's secret and SecretID that key's id:
	// shown on the one page after its creation, never again.
	Secret   string `json:"secret,omitempty"`
	SecretID string `json:"secret_id,omitempty"`
	// Password is a generated SMTP password of the credential Login:
	// shown on the one page after its creation, never again.
	Password string `json:"password,omitempty"`
	Login    string `json:"login,omitempty"`
	// Form is what a refused form had typed in, so that its page shows it
	// again (keptForm: never a password, a token or a file).
	Form map[string]string `json:"form,omitempty"`
}

// maxKeptValue bounds a typed value kept for the form's page.
const maxKeptValue = 16 << 10

// keptForm is a refused form's typed values, without the CSRF token,
// passwords, secrets and confirmations (those are typed again).
func keptForm(r *http.Request) map[string]string {
	var kept map[string]string
	for name, vs := range r.PostForm {
		lower := strings.ToLower(name)
		if len(vs) == 0 || vs[0] == "" || len(vs[0]) > maxKeptValue || name == csrfField ||
			strings.Contains(lower, "password") || strings.Contains(lower, "secret") || lower == "confirm" || lower == "current" {
			continue
		}
		if kept == nil {
			kept = map[string]string{}
		}
		kept[name] = vs[0]
	}
	return kept
}

// secure reports whether cookies must be Secure: the request came over
// TLS or the public URL is https.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(s.PublicURL), "https://")
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.HttpOnly = true
	c.Secure = s.secure(r)
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	if c.Path == "" {
		c.Path = prefix
	}
	http.SetCookie(w, c)
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	s.setCookie(w, r, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1})
}

// session returns the request's live session, or auth.ErrNoSession.
func (s *Server) session(r *http.Request) (auth.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Session{}, auth.ErrNoSession
	}
	return s.Sessions.Resume(r.Context(), c.Value)
}

// authed wraps a handler that needs a session (and, for state-changing
// routes, its CSRF token). Without a session a GET goes to the login form
// and comes back after it; anything else is sent to the login form.
func (s *Server) authed(csrf bool, limit int64, h func(*request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		ses, err := s.session(r)
		if errors.Is(err, auth.ErrNoSession) {
			s.toLogin(w, r)
			return
		}
		rq := &request{w: w, r: r, ses: ses}
		if err != nil {
			s.fail(rq, err)
			return
		}
		if csrf {
			if err := readBody(r); err != nil {
				s.fail(rq, err)
				return
			}
			if !ses.CheckCSRF(r.PostFormValue(csrfField)) {
				s.fail(rq, errCSRF)
				return
			}
		}
		if rq.tenant, err = s.tenantOf(r.Context(), r, ses); err != nil {
			s.fail(rq, err)
			return
		}
		if err := s.checkScope(rq); err != nil {
			s.fail(rq, err)
			return
		}
		if !csrf && ses.Flash != nil {
			if rq.flash, err = s.takeFlash(r.Context(), ses); err != nil {
				s.fail(rq, err)
				return
			}
		}
		if err := h(rq); err != nil {
			s.fail(rq, err)
		}
	})
}

// uploadMemory is how much of a multipart body is held in memory; the
// rest of a file waits in a temporary file until the request ends.
const uploadMemory = 4 << 20

// readBody parses a form or multipart body, so that a body over its limit
// is a 413 rather than a missing CSRF token.
func readBody(r *http.Request) error {
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		err = r.ParseMultipartForm(uploadMemory)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fault.TooLargef("The form is larger than %s, the most this page takes.", byteSize(int(tooBig.Limit)))
	case err != nil:
		return fault.Invalidf("The form could not be read: %v", err)
	}
	return nil
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	to := loginPath
	if r.Method == http.MethodGet && r.URL.Path != prefix+"/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext returns next when it is a dashboard page to come back to after
// login, and the Overview otherwise (no open redirects: only a path under
// /dashboard/ of this host).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(u.Path, prefix+"/") || strings.HasPrefix(u.Path, loginPath) ||
		strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return prefix + "/"
	}
	return next
}

func (s *Server) setFlash(rq *request, f flash) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return s.Sessions.SetFlash(rq.r.Context(), rq.ses, b)
}

func (s *Server) takeFlash(ctx context.Context, ses auth.Session) (flash, error) {
	var f flash
	b, err := s.Sessions.TakeFlash(ctx, ses)
	if err != nil || b == nil {
		return f, err
	}
	return f, json.Unmarshal(b, &f)
}

// loginToken returns the login form's double-submit token, setting its
// cookie when the browser has none.
func (s *Server) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	v := secret.Token(16)
	s.setCookie(w, r, &http.Cookie{Name: loginCookie, Value: v, Path: loginPath, SameSite: http.SameSiteStrictMode})
	return v
}

// checkLoginToken compares the login form's token with its cookie in
// constant time.
func checkLoginToken(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	return err == nil && len(c.Value) == 32 &&
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

// throttleKeys are the login throttle's keys of a request: the client
// address (its /64 for IPv6) and the account tried.
func throttleKeys(r *http.Request, email string) (addr, account string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		host = auth.AddressKey(ip)
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 { // no address is longer; bounds the throttle's memory
		email = email[:254]
	}
	return host, email
}
