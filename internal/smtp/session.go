package smtp

import (
	"context"
	"io"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// session wraps a backend's session: it recovers and counts panics and
// ends the session's context on logout.
type session struct {
	inner  gosmtp.Session
	cancel context.CancelFunc
	s      *Server
}

// guard turns a panic in a session method into a counted, logged 421.
func (w *session) guard(where string, err *error) {
	if v := recover(); v != nil {
		w.s.metrics.Recovered(w.s.log, "smtp "+w.s.cfg.Name+" "+where, v)
		*err = internalError
	}
}

func (w *session) Reset() {
	var err error
	defer w.guard("RSET", &err)
	w.inner.Reset()
}

func (w *session) Logout() (err error) {
	defer w.cancel()
	defer w.guard("logout", &err)
	return w.inner.Logout()
}

func (w *session) Mail(from string, opts *gosmtp.MailOptions) (err error) {
	defer w.guard("MAIL", &err)
	return w.inner.Mail(from, opts)
}

func (w *session) Rcpt(to string, opts *gosmtp.RcptOptions) (err error) {
	defer w.guard("RCPT", &err)
	return w.inner.Rcpt(to, opts)
}

func (w *session) Data(r io.Reader) (err error) {
	defer w.guard("DATA", &err)
	return w.inner.Data(r)
}

// authSession is a session whose backend takes AUTH.
type authSession struct {
	*session
	auth gosmtp.AuthSession
}

func (w *authSession) AuthMechanisms() []string { return w.auth.AuthMechanisms() }

func (w *authSession) Auth(mech string) (srv sasl.Server, err error) {
	defer w.guard("AUTH", &err)
	srv, err = w.auth.Auth(mech)
	if err != nil || srv == nil {
		return srv, err
	}
	return &guardedSASL{inner: srv, w: w.session}, nil
}

// guardedSASL recovers panics of the backend's SASL exchange too.
type guardedSASL struct {
	inner sasl.Server
	w     *session
}

func (g *guardedSASL) Next(response []byte) (challenge []byte, done bool, err error) {
	defer g.w.guard("AUTH exchange", &err)
	return g.inner.Next(response)
}
