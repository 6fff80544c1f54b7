package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

const userColumns = `id, email, name, password_hash, created_at, updated_at`

func scanUser(s scanner) (store.User, error) {
	var u store.User
	var created, updated int64
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	return u, notFound(err)
}

// CreateUser implements store.UserStore.
func (g *Global) CreateUser(ctx context.Context, u store.User) error {
	_, err := g.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, ts(u.CreatedAt), ts(u.UpdatedAt))
	return err
}

// User implements store.UserStore.
func (g *Global) User(ctx context.Context, id string) (store.User, error) {
	return scanUser(g.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByEmail implements store.UserStore.
func (g *Global) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return scanUser(g.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
}

// ListUsers implements store.UserStore.
func (g *Global) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := g.query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	return scanRows(rows, err, scanUser)
}

// DeleteUser implements store.UserStore. On PostgreSQL the transaction
// locks every user row before it counts them, so two deletes of the last
// two users run one after the other and the second is refused; SQLite has
// one writer at a time.
func (g *Global) DeleteUser(ctx context.Context, id string) error {
	return g.inTx(ctx, func(tx *Tx) error {
		lock := `SELECT id FROM users`
		if g.dialect.postgres() {
			lock += ` ORDER BY id FOR UPDATE`
		}
		rows, err := tx.rawQuery(ctx, lock)
		if err != nil {
			return g.classify(err)
		}
		n, found := 0, false
		for rows.Next() {
			var uid string
			if err := rows.Scan(&uid); err != nil {
				rows.Close()
				return err
			}
			n++
			found = found || uid == id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return g.classify(err)
		}
		switch {
		case !found:
			return store.ErrNotFound
		case n <= 1:
			return store.ErrLastUser
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return affected(tx.exec(ctx, `DELETE FROM users WHERE id = ?`, id))
	})
}

// SetUserPassword implements store.UserStore.
func (g *Global) SetUserPassword(ctx context.Context, id string, hash []byte, updatedAt time.Time, keep []byte) error {
	return g.inTx(ctx, func(tx *Tx) error {
		err := affected(tx.exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ts(updatedAt), id))
		if err != nil {
			return err
		}
		if keep == nil {
			keep = []byte{}
		}
		_, err = tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND hash <> ?`, id, keep)
		return err
	})
}

// CreateSession implements store.UserStore.
func (g *Global) CreateSession(ctx context.Context, s store.Session) error {
	_, err := g.exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, last_seen_at, flash) VALUES (?, ?, ?, ?, ?)`,
		s.Hash, s.UserID, ts(s.CreatedAt), ts(s.LastSeenAt), s.Flash)
	return err
}

// Session implements store.UserStore.
func (g *Global) Session(ctx context.Context, hash []byte) (store.Session, error) {
	var s store.Session
	var created, seen int64
	err := g.queryRow(ctx, `SELECT hash, user_id, created_at, last_seen_at, flash FROM sessions WHERE hash = ?`, hash).
		Scan(&s.Hash, &s.UserID, &created, &seen, &s.Flash)
	s.CreatedAt, s.LastSeenAt = fromTS(created), fromTS(seen)
	return s, notFound(err)
}

// TouchSession implements store.UserStore.
func (g *Global) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	return affected(g.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE hash = ?`, ts(seen), hash))
}

// SetSessionFlash implements store.UserStore.
func (g *Global) SetSessionFlash(ctx context.Context, hash, flash []byte) error {
	return affected(g.exec(ctx, `UPDATE sessions SET flash = ? WHERE hash = ?`, flash, hash))
}

// TakeSessionFlash implements store.UserStore. It reads the flash, then
// clears it only if it is still the value read: of concurrent takers, the
// one whose clear touched the row owns it.
func (g *Global) TakeSessionFlash(ctx context.Context, hash []byte) ([]byte, error) {
	var flash []byte
	err := g.queryRow(ctx, `SELECT flash FROM sessions WHERE hash = ?`, hash).Scan(&flash)
	if err != nil || len(flash) == 0 {
		return nil, notFound(err)
	}
	res, err := g.exec(ctx, `UPDATE sessions SET flash = NULL WHERE hash = ? AND flash = ?`, hash, flash)
	if err := affected(res, err); errors.Is(err, store.ErrNotFound) {
		return nil, nil // another request took it first
	} else if err != nil {
		return nil, err
	}
	return flash, nil
}

// DeleteSession implements store.UserStore.
func (g *Global) DeleteSession(ctx context.Context, hash []byte) error {
	return affected(g.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash))
}

// DeleteExpiredSessions implements store.UserStore.
func (g *Global) DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error) {
	res, err := g.exec(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`, ts(seenBefore), ts(createdBefore))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
