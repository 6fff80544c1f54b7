package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"time"

	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// ErrNoSession means a session token is missing, unknown or expired.
var ErrNoSession = errors.New("auth: no valid session")

// Sessions are dashboard logins. A session's token is 32 random bytes
// that live only in the user's cookie; the store keeps its SHA-256. A
// session ends after IdleTimeout without a request or MaxAge after login,
// whichever comes first, and at logout. Its CSRF token is derived from the
// session token (HMAC), so it is tied to the session, needs no storage and
// cannot be computed without the cookie.
type Sessions struct {
	Global      store.Global
	Box         *secret.Box
	Now         func() time.Time
	IdleTimeout time.Duration
	MaxAge      time.Duration
}

// Session is a live login.
type Session struct {
	// Token is the cookie value; it is never stored or logged.
	Token string
	store.Session
	User store.User
}

const tokenBytes = 32

// touchEvery bounds how often a session's activity is written.
const touchEvery = time.Minute

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Start creates a session for u, and clears expired ones.
func (s *Sessions) Start(ctx context.Context, u store.User) (Session, error) {
	now := s.Now().UTC()
	if _, err := s.Global.DeleteExpiredSessions(ctx, now.Add(-s.IdleTimeout), now.Add(-s.MaxAge)); err != nil {
		return Session{}, err
	}
	token := secret.Token(tokenBytes)
	rec := store.Session{Hash: tokenHash(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now}
	if err := s.Global.CreateSession(ctx, rec); err != nil {
		return Session{}, err
	}
	return Session{Token: token, Session: rec, User: u}, nil
}

// Resume returns the live session of token, recording the activity, or
// ErrNoSession.
func (s *Sessions) Resume(ctx context.Context, token string) (Session, error) {
	if len(token) != 2*tokenBytes {
		return Session{}, ErrNoSession
	}
	if _, err := hex.DecodeString(token); err != nil {
		return Session{}, ErrNoSession
	}
	rec, err := s.Global.Session(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	} else if err != nil {
		return Session{}, err
	}
	now := s.Now().UTC()
	if !now.Before(rec.LastSeenAt.Add(s.IdleTimeout)) || !now.Before(rec.CreatedAt.Add(s.MaxAge)) {
		_ = s.Global.DeleteSession(ctx, rec.Hash)
		return Session{}, ErrNoSession
	}
	u, err := s.Global.User(ctx, rec.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	} else if err != nil {
		return Session{}, err
	}
	if now.Sub(rec.LastSeenAt) >= touchEvery {
		if err := s.Global.TouchSession(ctx, rec.Hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Session{}, err
		}
		rec.LastSeenAt = now
	}
	return Session{Token: token, Session: rec, User: u}, nil
}

// End logs the session out.
func (s *Sessions) End(ctx context.Context, ses Session) error {
	err := s.Global.DeleteSession(ctx, ses.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// CSRF is the session's anti-forgery token for forms.
func (ses Session) CSRF() string {
	mac := hmac.New(sha256.New, []byte(ses.Token))
	mac.Write([]byte("salvo-dashboard-csrf-v1"))
	return hex.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports, in constant time, whether presented is the session's
// CSRF token.
func (ses Session) CheckCSRF(presented string) bool {
	return ses.Token != "" && subtle.ConstantTimeCompare([]byte(ses.CSRF()), []byte(presented)) == 1
}

func flashPurpose(ses Session) string { return "dashboard-flash:" + hex.EncodeToString(ses.Hash) }

// SetFlash keeps a one-time message for the session's next page, sealed
// because it may carry a new key's secret.
func (s *Sessions) SetFlash(ctx context.Context, ses Session, msg []byte) error {
	return s.Global.SetSessionFlash(ctx, ses.Hash, s.Box.Seal(flashPurpose(ses), msg))
}

// TakeFlash returns the session's flash, at most once; nil when none.
func (s *Sessions) TakeFlash(ctx context.Context, ses Session) ([]byte, error) {
	sealed, err := s.Global.TakeSessionFlash(ctx, ses.Hash)
	if err != nil || sealed == nil {
		return nil, err
	}
	return s.Box.Open(flashPurpose(ses), sealed)
}
