package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
)

// loginData is the login form's content.
type loginData struct {
	Email string
	Next  string
	Token string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := s.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, loginData{Next: next}, nil)
}

// showLogin renders the login form, with err's message when it failed.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData, err *fault.Error) {
	v := view{Title: "Log in"}
	if err != nil {
		status, v.Flash.Error = err.Kind.HTTPStatus(), err.Message
		setRetryAfter(w.Header(), err)
	}
	d.Token = s.loginToken(w, r)
	v.Data = d
	if err := s.render(w, status, "login", v); err != nil {
		s.Log.Error("render login", "err", err)
	}
}

var errBadLogin = fault.Unauthorizedf("Wrong email or password.")

// slowedMessage tells a refused login which count slowed it.
func slowedMessage(scope auth.Scope) string {
	switch scope {
	case auth.ScopeAccount:
		return "Too many failed logins: this account is receiving many failed logins, so logins to it are being slowed down."
	case auth.ScopeAddress:
		return "Too many failed logins: logins from your address are being slowed down."
	}
	return "Too many failed logins: logins to this account from your address are being slowed down."
}

// login checks an email and password. Only users log in: an API key is
// not a password of any user.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	email := r.PostFormValue("email")
	d := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	if !checkLoginToken(r) {
		s.showLogin(w, r, 0, d, errCSRF)
		return
	}
	addr, account := throttleKeys(r, email)
	attempt, slowed := s.Throttle.Begin(addr, account)
	if slowed != nil {
		s.showLogin(w, r, 0, d, retryAfter(slowed.Wait, slowedMessage(slowed.Scope)))
		return
	}
	defer attempt.Release() // nothing counted if the check itself failed
	u, err := s.Users.Login(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, auth.ErrBadLogin) {
		next := attempt.Fail()
		s.Log.Info("dashboard login failed", "addr", addr)
		e := errBadLogin
		if next > 0 {
			secs := max(1, int((next+time.Second-1)/time.Second))
			e = fault.Unauthorizedf("%s Logins are now being slowed down: the next attempt must wait %v.",
				errBadLogin.Message, time.Duration(secs)*time.Second)
		}
		s.showLogin(w, r, 0, d, e)
		return
	}
	if err != nil {
		s.fail(&request{w: w, r: r}, err)
		return
	}
	attempt.Succeed()
	if old, err := s.session(r); err == nil {
		_ = s.Sessions.End(r.Context(), old)
	}
	ses, err := s.Sessions.Start(r.Context(), u)
	if err != nil {
		s.fail(&request{w: w, r: r}, err)
		return
	}
	s.setCookie(w, r, &http.Cookie{Name: sessionCookie, Value: ses.Token, MaxAge: int(s.Sessions.MaxAge.Seconds())})
	s.clearCookie(w, r, loginCookie, loginPath)
	s.Log.Info("dashboard login", "user_id", u.ID)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) logout(rq *request) error {
	if err := s.Sessions.End(rq.r.Context(), rq.ses); err != nil {
		return err
	}
	s.clearCookie(rq.w, rq.r, sessionCookie, prefix)
	http.Redirect(rq.w, rq.r, loginPath, http.StatusSeeOther)
	return nil
}
