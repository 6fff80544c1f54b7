package sqlstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Global implements store.Global.
type Global struct{ *DB }

var _ store.Global = (*Global)(nil)

// OpenGlobal migrates db as a global store.
func OpenGlobal(ctx context.Context, db *DB) (*Global, error) {
	if err := db.Migrate(ctx, "global"); err != nil {
		return nil, err
	}
	return &Global{db}, nil
}

// Bootstrap implements store.Global.
func (g *Global) Bootstrap(ctx context.Context, acct store.Account, primary store.Key) (bool, error) {
	created := false
	err := g.inTx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)`,
			acct.ID, acct.Name, ts(acct.CreatedAt)); err != nil {
			return err
		}
		primary.AccountID = acct.ID
		primary.Primary = true
		if err := insertKey(ctx, tx, primary); err != nil {
			return err
		}
		created = true
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		// Another process bootstrapped between our count and insert.
		return false, nil
	}
	return created, err
}

// Account implements store.Global.
func (g *Global) Account(ctx context.Context) (store.Account, error) {
	var a store.Account
	var created int64
	err := g.queryRow(ctx, `SELECT id, name, created_at FROM accounts`).Scan(&a.ID, &a.Name, &created)
	a.CreatedAt = fromTS(created)
	return a, notFound(err)
}

// Meta implements store.Global.
func (g *Global) Meta(ctx context.Context, name string) (string, error) {
	var v string
	err := g.queryRow(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	return v, notFound(err)
}

// PutMetaIfAbsent implements store.Global.
func (g *Global) PutMetaIfAbsent(ctx context.Context, name, value string) (string, error) {
	if _, err := g.exec(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", err
	}
	return g.Meta(ctx, name)
}

// PutMeta implements store.Global.
func (g *Global) PutMeta(ctx context.Context, name, value string) error {
	_, err := g.exec(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

const keyColumns = `id, account_id, kind, role, domain_name, description, hash, sealed, is_primary,
	requestor, user_name, created_at, updated_at, expires_at, is_disabled, disabled_reason`

func insertKey(ctx context.Context, tx *Tx, k store.Key) error {
	_, err := tx.exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.AccountID, k.Kind, k.Role, k.DomainName, k.Description, k.Hash, k.Sealed, k.Primary,
		k.Requestor, k.UserName, ts(k.CreatedAt), ts(k.UpdatedAt), ts(k.ExpiresAt), k.Disabled, k.DisabledReason)
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(s scanner) (store.Key, error) {
	var k store.Key
	var created, updated, expires int64
	err := s.Scan(&k.ID, &k.AccountID, &k.Kind, &k.Role, &k.DomainName, &k.Description, &k.Hash, &k.Sealed,
		&k.Primary, &k.Requestor, &k.UserName, &created, &updated, &expires, &k.Disabled, &k.DisabledReason)
	k.CreatedAt, k.UpdatedAt, k.ExpiresAt = fromTS(created), fromTS(updated), fromTS(expires)
	return k, err
}

// CreateKey implements store.Global.
func (g *Global) CreateKey(ctx context.Context, k store.Key) error {
	return g.inTx(ctx, func(tx *Tx) error { return insertKey(ctx, tx, k) })
}

// KeyByHash implements store.Global. Keys found are cached (cache.go);
// unknown hashes are not, so a new key works at once. A key in use is
// read again in the background once half of KeyTTL has passed, so busy
// clients do not all wait for the database each time it expires.
func (g *Global) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	if e, ok := lookup(g.DB, &g.cache.keys, string(hash)); ok {
		if age := time.Since(e.at); age < KeyTTL {
			if age >= KeyTTL/2 {
				g.refreshKey(hash)
			}
			return cloneKey(e.k), nil
		}
	}
	k, err := g.readKey(ctx, hash)
	return cloneKey(k), err
}

// readKey reads the key of hash from the database, once for all callers
// asking meanwhile, and caches it when found (forgets it when not). The
// read does not end with the first caller's context: the others wait for
// it too.
func (g *Global) readKey(ctx context.Context, hash []byte) (store.Key, error) {
	h := string(hash)
	c := &g.cache
	c.flightMu.Lock()
	if r, ok := c.keyReads[h]; ok {
		c.flightMu.Unlock()
		select {
		case <-r.done:
			return r.k, r.err
		case <-ctx.Done():
			return store.Key{}, ctx.Err()
		}
	}
	r := &keyRead{done: make(chan struct{})}
	if c.keyReads == nil {
		c.keyReads = map[string]*keyRead{}
	}
	c.keyReads[h] = r
	c.flightMu.Unlock()

	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	gen, _ := c.current()
	at := time.Now()
	k, err := scanKey(g.queryRow(qctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash))
	cancel()
	err = notFound(err)
	switch {
	case err == nil:
		keep(g.DB, &c.keys, h, gen, cachedKey{k: cloneKey(k), at: at})
	case errors.Is(err, store.ErrNotFound):
		c.mu.Lock()
		delete(c.keys, h)
		c.mu.Unlock()
	}
	r.k, r.err = k, err
	c.flightMu.Lock()
	delete(c.keyReads, h)
	c.flightMu.Unlock()
	close(r.done)
	return k, err
}

// refreshKey reads the key of hash again in the background, unless a read
// is under way.
func (g *Global) refreshKey(hash []byte) {
	g.cache.flightMu.Lock()
	_, busy := g.cache.keyReads[string(hash)]
	g.cache.flightMu.Unlock()
	if !busy {
		go func() { _, _ = g.readKey(context.Background(), slices.Clone(hash)) }()
	}
}

func cloneKey(k store.Key) store.Key {
	k.Hash, k.Sealed = slices.Clone(k.Hash), slices.Clone(k.Sealed)
	return k
}

// removeKeys runs fn, which deletes API keys, in a transaction that
// invalidates cached keys, and returns once no node can still use them:
// at once on SQLite, where every process sees the commit before its next
// lookup (the shared counter), and KeyTTL after the commit on PostgreSQL,
// where another node may not have heard the notification yet.
func (g *Global) removeKeys(ctx context.Context, fn func(tx *Tx) error) error {
	err := g.inTx(ctx, func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.invalidate(ctx)
	})
	if err == nil && g.dialect.postgres() {
		time.Sleep(KeyTTL)
	}
	return err
}

// Key implements store.Global.
func (g *Global) Key(ctx context.Context, id string) (store.Key, error) {
	k, err := scanKey(g.queryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	return k, notFound(err)
}

// Keys implements store.Global.
func (g *Global) Keys(ctx context.Context, f store.KeyFilter) ([]store.Key, error) {
	rows, err := g.query(ctx, `SELECT `+keyColumns+` FROM api_keys
		WHERE (? = '' OR kind = ?) AND (? = '' OR domain_name = ?) AND (? = '' OR account_id = ?)
		ORDER BY created_at, id`, f.Kind, f.Kind, f.DomainName, f.DomainName, f.AccountID, f.AccountID)
	return scanRows(rows, err, scanKey)
}

// CountKeys implements store.Global.
func (g *Global) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := g.queryRow(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n)
	return n, err
}

// DeleteKey implements store.Global.
func (g *Global) DeleteKey(ctx context.Context, id string) error {
	return g.removeKeys(ctx, func(tx *Tx) error {
		return affected(tx.exec(ctx, `DELETE FROM api_keys WHERE id = ?`, id))
	})
}

// ReplacePrimaryKey implements store.Global.
func (g *Global) ReplacePrimaryKey(ctx context.Context, k store.Key) error {
	return g.removeKeys(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM api_keys WHERE is_primary = ?`, true); err != nil {
			return err
		}
		k.Primary = true
		return insertKey(ctx, tx, k)
	})
}

// ReserveDomain implements store.Global.
func (g *Global) ReserveDomain(ctx context.Context, d store.DomainName) error {
	_, err := g.exec(ctx, `INSERT INTO domains (name, id, account_id, region, created_at) VALUES (?, ?, ?, ?, ?)`,
		d.Name, d.ID, d.AccountID, d.Region, ts(d.CreatedAt))
	return err
}

// DomainName implements store.Global.
func (g *Global) DomainName(ctx context.Context, name string) (store.DomainName, error) {
	var d store.DomainName
	var created int64
	err := g.queryRow(ctx, `SELECT name, id, account_id, region, created_at FROM domains WHERE name = ?`, name).
		Scan(&d.Name, &d.ID, &d.AccountID, &d.Region, &created)
	d.CreatedAt = fromTS(created)
	return d, notFound(err)
}

// ReleaseDomain implements store.Global.
func (g *Global) ReleaseDomain(ctx context.Context, name string) error {
	return g.removeKeys(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM domains WHERE name = ?`, name)
		if err := affected(res, err); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `DELETE FROM api_keys WHERE kind = ? AND domain_name = ?`, store.KindDomain, name)
		return err
	})
}
