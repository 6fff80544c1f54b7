package auth

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// PasswordCost is the bcrypt cost of dashboard passwords: deliberately
// slow, a noticeable fraction of a second per check (docs/performance.md,
// "Figures moved out of code comments").
const PasswordCost = 12

// Password length limits: bcrypt reads at most 72 bytes.
const (
	MinPasswordLen   = 10
	MaxPasswordBytes = 72
)

// ErrBadLogin means the email is unknown or the password wrong; callers do
// not learn which.
var ErrBadLogin = errors.New("auth: wrong email or password")

// Users manages the people who log in to the dashboard. They log in with
// email and password only: no API key, however privileged, is a login.
type Users struct {
	Global store.Global
	Now    func() time.Time
	// BcryptCost lowers the password hash cost in tests (PasswordCost if 0).
	BcryptCost int

	dummyOnce sync.Once
	dummy     []byte // a hash to check against when the email is unknown
}

// NewUser is what `salvo users create` and the dashboard's Users page ask for.
type NewUser struct {
	Email    string
	Name     string
	Password string
}

func (s *Users) cost() int {
	if s.BcryptCost == 0 {
		return PasswordCost
	}
	return s.BcryptCost
}

// NormalizeEmail lower-cases a bare address and checks its form.
func NormalizeEmail(s string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(s))
	if email == "" {
		return "", fault.Invalidf("an email address is required")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", fault.Invalidf("%q is not an email address such as ops@example.com", s)
	}
	return email, nil
}

// CheckPassword says why a new password is not acceptable, or nil.
func CheckPassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLen {
		return fault.Invalidf("the password must be at least %d characters long", MinPasswordLen)
	}
	if len(p) > MaxPasswordBytes {
		return fault.Invalidf("the password must be at most %d bytes long", MaxPasswordBytes)
	}
	return nil
}

// Create adds a user.
func (s *Users) Create(ctx context.Context, req NewUser) (store.User, error) {
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		return store.User{}, err
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > 200 {
		return store.User{}, fault.Invalidf("the name must be at most 200 characters long")
	}
	if err := CheckPassword(req.Password); err != nil {
		return store.User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), s.cost())
	if err != nil {
		return store.User{}, err
	}
	now := s.Now().UTC()
	u := store.User{ID: secret.Token(12), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Global.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return store.User{}, fault.Conflictf("a user with the email %s already exists", email)
	} else if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// List returns every user by email.
func (s *Users) List(ctx context.Context) ([]store.User, error) {
	return s.Global.ListUsers(ctx)
}

// Login returns the user with this email and password, or ErrBadLogin.
// An unknown email costs the same hash check as a wrong password, so the
// answer's timing does not tell which emails exist.
func (s *Users) Login(ctx context.Context, email, password string) (store.User, error) {
	u, err := s.Global.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return store.User{}, ErrBadLogin
	}
	if err != nil {
		return store.User{}, err
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return store.User{}, ErrBadLogin
	}
	return u, nil
}

func (s *Users) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(secret.Token(16)), s.cost())
	})
	return s.dummy
}

// ErrLastUser refuses to delete the only user: nobody could log in to
// the dashboard after it.
var ErrLastUser = fault.Conflictf("This is the only user: nobody could log in after deleting it. Add another user first.")

// Delete removes the user with this id and ends their sessions. The last
// user is never deleted (ErrLastUser).
func (s *Users) Delete(ctx context.Context, id string) error {
	err := s.Global.DeleteUser(ctx, id)
	switch {
	case errors.Is(err, store.ErrLastUser):
		return ErrLastUser
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFoundf("There is no such user.")
	}
	return err
}

// ByEmail returns the user with this email (wire 404 when there is none).
func (s *Users) ByEmail(ctx context.Context, email string) (store.User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.Global.UserByEmail(ctx, e)
	if errors.Is(err, store.ErrNotFound) {
		return u, fault.NotFoundf("There is no user %s.", e)
	}
	return u, err
}

// SetPassword gives the user id a new password and ends every session of
// theirs but the one whose hash is keep (nil: all). It does not ask for
// the current password: callers that act for the user themselves use
// ChangePassword.
func (s *Users) SetPassword(ctx context.Context, id, password string, keep []byte) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost())
	if err != nil {
		return err
	}
	err = s.Global.SetUserPassword(ctx, id, hash, s.Now().UTC(), keep)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFoundf("There is no such user.")
	}
	return err
}

// ErrWrongPassword answers a password change whose current password is
// wrong.
var ErrWrongPassword = fault.Invalidf("The current password is wrong.")

// ChangePassword is a user changing their own password: current must be
// their password now. Their other sessions end; the session whose hash is
// keep stays.
func (s *Users) ChangePassword(ctx context.Context, id, current, password string, keep []byte) error {
	u, err := s.Global.User(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(current)) != nil {
		return ErrWrongPassword
	}
	return s.SetPassword(ctx, id, password, keep)
}
