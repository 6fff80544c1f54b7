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
