package submission

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/auth"
)

var errAuthFailed = reply(535, gosmtp.EnhancedCode{5, 7, 8}, "Authentication credentials invalid")

// authenticate checks a login and password. Before checking it reserves
// the attempt with the throttle, which refuses clients that failed too
// often or have too many checks in flight (454 4.7.0 with the wait, RFC
// 4954 §6: a temporary failure); a failure waits AuthFailureDelay before
// its 535 and counts against the client's address, the login and the
// pair.
func (s *session) authenticate(login, password string) error {
	login = strings.ToLower(strings.TrimSpace(login))
	attempt, slowed := s.r.deps.Throttle.Begin(auth.AddressKey(s.conn.Remote), login)
	if slowed != nil {
		return reply(454, gosmtp.EnhancedCode{4, 7, 0},
			fmt.Sprintf("Too many failed authentications; try again in %d seconds", int(math.Ceil(slowed.Wait.Seconds()))))
	}
	defer attempt.Release() // nothing counted if the check itself failed
	cred, err := s.r.deps.Credentials.Verify(s.conn.Ctx, login, password)
	if errors.Is(err, auth.ErrBadCredentials) {
		attempt.Fail()
		s.r.deps.Log.Info("smtp auth failed", "login", login, "remote", s.conn.Remote.String())
		s.pause(s.r.cfg.AuthFailureDelay)
		return errAuthFailed
	}
	if err != nil {
		s.r.deps.Log.Error("smtp auth", "login", login, "err", err)
		return reply(454, gosmtp.EnhancedCode{4, 7, 0}, "Temporary authentication failure")
	}
	attempt.Succeed()
	s.cred = &cred
	return nil
}

// pause waits d unless the connection ends first.
func (s *session) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.conn.Ctx.Done():
	}
}

// loginServer is the server side of the LOGIN mechanism (obsolete but
// what many clients, Outlook and PHPMailer among them, still use): the
// user name, then the password, each after a base64 prompt.
type loginServer struct {
	auth func(user, password string) error
	step int
	user string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		if len(response) > 0 { // AUTH LOGIN <user> (initial response)
			l.user, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		l.step = 1
		return []byte("Username:"), false, nil
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.auth(l.user, string(response))
	}
	return nil, true, errors.New("unexpected LOGIN response")
}
