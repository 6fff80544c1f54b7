package sqlstore

import (
	"context"

	"github.com/salvo-email/salvo/internal/store"
)

const credentialColumns = `login, domain, hash, created_at`

func scanCredential(s scanner) (store.Credential, error) {
	var c store.Credential
	var created int64
	err := s.Scan(&c.Login, &c.Domain, &c.Hash, &created)
	c.CreatedAt = fromTS(created)
	return c, err
}

// Credential implements store.CredentialStore.
func (r *Regional) Credential(ctx context.Context, login string) (store.Credential, error) {
	c, err := scanCredential(r.queryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE login = ?`, login))
	return c, notFound(err)
}

// Credentials implements store.CredentialStore.
func (r *Regional) Credentials(ctx context.Context, domain string, skip, limit int) ([]store.Credential, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM credentials WHERE domain = ?`, domain).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE domain = ?
		ORDER BY login LIMIT ? OFFSET ?`, domain, limit, skip)
	cs, err := scanRows(rows, err, scanCredential)
	return cs, total, err
}

// CreateCredentials implements store.CredentialStore.
func (r *Regional) CreateCredentials(ctx context.Context, cs []store.Credential) error {
	return r.inTx(ctx, func(tx *Tx) error {
		for _, c := range cs {
			if _, err := tx.exec(ctx, `INSERT INTO credentials (`+credentialColumns+`) VALUES (?, ?, ?, ?)`,
				c.Login, c.Domain, c.Hash, ts(c.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetCredentialHash implements store.CredentialStore.
func (r *Regional) SetCredentialHash(ctx context.Context, domain, login string, hash []byte) error {
	return affected(r.exec(ctx, `UPDATE credentials SET hash = ? WHERE domain = ? AND login = ?`, hash, domain, login))
}

// DeleteCredential implements store.CredentialStore.
func (r *Regional) DeleteCredential(ctx context.Context, domain, login string) error {
	return affected(r.exec(ctx, `DELETE FROM credentials WHERE domain = ? AND login = ?`, domain, login))
}

// DeleteCredentials implements store.CredentialStore.
func (r *Regional) DeleteCredentials(ctx context.Context, domain, keep string) (int, error) {
	res, err := r.exec(ctx, `DELETE FROM credentials WHERE domain = ? AND login <> ?`, domain, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
