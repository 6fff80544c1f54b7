package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// apiKeysData is the API Keys page: the primary key (masked unless just
// revealed without JavaScript) and the other keys.
type apiKeysData struct {
	Primary  store.Key
	Revealed string
	Others   []store.Key
}

func (s *Server) apiKeysData(rq *request) (apiKeysData, error) {
	var d apiKeysData
	keys, err := s.Keys.List(rq.r.Context(), store.KeyFilter{AccountID: rq.tenant.AccountID})
	if err != nil {
		return d, err
	}
	for _, k := range keys {
		if k.Primary {
			d.Primary = k
		} else {
			d.Others = append(d.Others, k)
		}
	}
	return d, nil
}

func (s *Server) apiKeysPage(rq *request) error {
	d, err := s.apiKeysData(rq)
	if err != nil {
		return err
	}
	return s.show(rq, "api_keys", "API Keys", "api-keys", d)
}

// revealPrimary answers the eye icon: JSON for the page's script, or the
// page with the key shown when the browser runs no JavaScript.
func (s *Server) revealPrimary(rq *request) error {
	key, err := s.Keys.RevealPrimary(rq.r.Context())
	if err != nil {
		return err
	}
	s.Log.Info("primary key revealed", "user_id", rq.ses.User.ID)
	if strings.Contains(rq.r.Header.Get("Accept"), "application/json") {
		rq.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		return json.NewEncoder(rq.w).Encode(map[string]string{"key": key})
	}
	d, err := s.apiKeysData(rq)
	if err != nil {
		return err
	}
	d.Revealed = key
	return s.show(rq, "api_keys", "API Keys", "api-keys", d)
}

func (s *Server) rotatePage(rq *request) error {
	return s.show(rq, "rotate", "Rotate the primary key", "api-keys", nil)
}

func (s *Server) rotatePrimary(rq *request) (result, error) {
	res := result{To: apiKeysPath}
	if _, err := s.Keys.RotatePrimary(rq.r.Context()); err != nil {
		return res, err
	}
	s.Log.Info("primary key rotated", "user_id", rq.ses.User.ID)
	res.Flash.Notice = "The primary key was rotated; the old one no longer works. Click the eye icon to see the new one."
	return res, nil
}

func (s *Server) revokeKey(rq *request) (result, error) {
	return s.revoke(rq, rq.r.PathValue("id"), apiKeysPath)
}

// revoke revokes key id and goes back to the page at back.
func (s *Server) revoke(rq *request, id, back string) (result, error) {
	res := result{To: back}
	if err := s.Keys.RevokeIn(rq.r.Context(), rq.tenant.AccountID, id); err != nil {
		return res, err
	}
	s.Log.Info("key revoked", "key_id", id, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Key " + id + " was revoked."
	return res, nil
}

func (s *Server) usersPage(rq *request) error {
	users, err := s.Users.List(rq.r.Context())
	if err != nil {
		return err
	}
	people := make([]person, 0, len(users))
	for _, u := range users {
		people = append(people, personOf(u))
	}
	return s.show(rq, "users", "Users", "users", people)
}

func (s *Server) addUser(rq *request) (result, error) {
	res := result{To: usersPath}
	f := rq.r.PostForm
	if f.Get("password") != f.Get("password2") {
		return res, fault.Invalidf("The two passwords differ.")
	}
	u, err := s.Users.Create(rq.r.Context(), auth.NewUser{Email: f.Get("email"), Name: f.Get("name"), Password: f.Get("password")})
	if err != nil {
		return res, err
	}
	s.Log.Info("user added", "user_id", u.ID, "by", rq.ses.User.ID)
	res.Flash.Notice = "User " + u.Email + " was added; they can log in now."
	return res, nil
}

// deleteUser removes a user and their sessions. Deleting yourself needs
// your own email typed again and logs you out; the last user is never
// deleted (auth.ErrLastUser), so someone can always log in.
func (s *Server) deleteUser(rq *request) error {
	id := rq.r.PathValue("user")
	self := id == rq.ses.User.ID
	u, err := s.Users.Global.User(rq.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return s.redirect(func(*request) (result, error) {
			return result{To: usersPath}, fault.NotFoundf("There is no such user.")
		})(rq)
	}
	if err != nil {
		return err
	}
	if self && !strings.EqualFold(strings.TrimSpace(rq.r.PostFormValue("confirm")), u.Email) {
		return s.redirect(func(*request) (result, error) {
			return result{To: usersPath}, fault.Invalidf("To delete yourself, type your own email, %s; you will be logged out.", u.Email)
		})(rq)
	}
	if err := s.Users.Delete(rq.r.Context(), id); err != nil {
		return s.redirect(func(*request) (result, error) { return result{To: usersPath}, err })(rq)
	}
	s.Log.Info("user deleted", "user_id", id, "by", rq.ses.User.ID)
	if self {
		// The session went with the user.
		s.clearCookie(rq.w, rq.r, sessionCookie, prefix)
		http.Redirect(rq.w, rq.r, loginPath, http.StatusSeeOther)
		return nil
	}
	return s.redirect(func(*request) (result, error) {
		return result{To: usersPath, Flash: flash{Notice: "User " + u.Email + " was deleted and logged out."}}, nil
	})(rq)
}

// changePassword is the logged-in user changing their own password: the
// current one is required (its failures count in the login throttle), and
// their other sessions end.
func (s *Server) changePassword(rq *request) (result, error) {
	res := result{To: usersPath}
	f := rq.r.PostForm
	if f.Get("password") != f.Get("password2") {
		return res, fault.Invalidf("The two new passwords differ.")
	}
	// The current password is guessed no faster here than at the login
	// form: the same throttle counts its failures.
	addr, account := throttleKeys(rq.r, rq.ses.User.Email)
	attempt, slowed := s.Throttle.Begin(addr, account)
	if slowed != nil {
		return res, retryAfter(slowed.Wait, slowedMessage(slowed.Scope))
	}
	defer attempt.Release()
	err := s.Users.ChangePassword(rq.r.Context(), rq.ses.User.ID, f.Get("current"), f.Get("password"), rq.ses.Hash)
	if errors.Is(err, auth.ErrWrongPassword) {
		attempt.Fail()
		s.Log.Info("password change with a wrong current password", "user_id", rq.ses.User.ID, "addr", addr)
		return res, err
	}
	if err != nil {
		return res, err
	}
	attempt.Succeed()
	s.Log.Info("password changed", "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Your password was changed; your other sessions were logged out."
	return res, nil
}
