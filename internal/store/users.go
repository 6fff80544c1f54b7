package store

import (
	"context"
	"time"
)

// User is a person who logs in to the dashboard (global data). Users log
// in with their email and password only; API keys never authenticate them.
type User struct {
	ID    string
	Email string // lower case, unique
	Name  string
	// PasswordHash is a bcrypt hash; the password itself is never stored.
	PasswordHash []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a dashboard login. Hash is the SHA-256 of the token in the
// user's cookie; the token itself is never stored.
type Session struct {
	Hash       []byte
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// Flash is a sealed one-time message for the session's next page, or nil.
	Flash []byte
}

// UserStore keeps dashboard users and their sessions in the global store.
type UserStore interface {
	// CreateUser stores u; ErrConflict when its email is taken.
	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns every user by email.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes a user and their sessions; ErrNotFound when there
	// is none, ErrLastUser when they are the only user (checked and deleted
	// in one transaction, so concurrent deletes never leave zero users).
	DeleteUser(ctx context.Context, id string) error
	// SetUserPassword replaces a user's password hash, stamps updatedAt,
	// and ends every session of theirs but the one whose hash is keep (nil:
	// all of them); ErrNotFound when there is no such user.
	SetUserPassword(ctx context.Context, id string, hash []byte, updatedAt time.Time, keep []byte) error

	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession records activity at seen.
	TouchSession(ctx context.Context, hash []byte, seen time.Time) error
	// SetSessionFlash replaces the session's flash.
	SetSessionFlash(ctx context.Context, hash, flash []byte) error
	// TakeSessionFlash returns the session's flash and clears it, so that
	// of concurrent takers only one gets it; nil when there is none.
	TakeSessionFlash(ctx context.Context, hash []byte) ([]byte, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteExpiredSessions removes sessions idle since before seenBefore or
	// created before createdBefore, and reports how many went.
	DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error)
}
