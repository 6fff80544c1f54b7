package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/salvo-email/salvo/internal/store"
)

// Regional implements store.Regional.
type Regional struct {
	*DB
	claims claimBounds
	parts  *partCache // nil: parts are always read from the database
}

var _ store.Regional = (*Regional)(nil)

// OpenRegional migrates db as a regional store.
func OpenRegional(ctx context.Context, db *DB) (*Regional, error) {
	if err := db.Migrate(ctx, "regional"); err != nil {
		return nil, err
	}
	return &Regional{DB: db, claims: claimBounds{maxLooseDests: maxLooseDests}, parts: newPartCache(partCacheBytes)}, nil
}

const domainColumns = `name, id, state, type, spam_action, wildcard, require_tls, skip_verification,
	web_scheme, web_prefix, dkim_selector, dkim_key_bits, dkim_private, dkim_public, force_dkim_authority,
	use_automatic_sender_security, encrypt_incoming_message, message_ttl, archive_to, ips, pool_id,
	mailfrom_host, dns_checks, created_at, updated_at, click_active, click_htmlonly, open_active, open_top,
	unsubscribe_active, unsubscribe_html_footer, unsubscribe_text_footer, account_id`

func domainArgs(d store.Domain) ([]any, error) {
	checks, err := json.Marshal(d.DNSChecks)
	if err != nil {
		return nil, err
	}
	if d.DNSChecks == nil {
		checks = []byte("[]")
	}
	if d.DKIMPrivate == nil {
		d.DKIMPrivate = []byte{} // the column is NOT NULL; nil would be NULL
	}
	return []any{d.Name, d.ID, d.State, d.Type, d.SpamAction, d.Wildcard, d.RequireTLS, d.SkipVerification,
		d.WebScheme, d.WebPrefix, d.DKIMSelector, d.DKIMKeyBits, d.DKIMPrivate, d.DKIMPublic, d.ForceDKIMAuthority,
		d.UseAutomaticSenderSecurity, d.EncryptIncomingMessage, d.MessageTTL, d.ArchiveTo, d.IPs, d.PoolID,
		d.MailFromHost, string(checks), ts(d.CreatedAt), ts(d.UpdatedAt),
		d.Tracking.Click, d.Tracking.ClickHTMLOnly, d.Tracking.Open, d.Tracking.OpenTop,
		d.Tracking.Unsubscribe, d.Tracking.HTMLFooter, d.Tracking.TextFooter, d.AccountID}, nil
}

func scanDomain(s scanner) (store.Domain, error) {
	var d store.Domain
	var checks string
	var created, updated int64
	err := s.Scan(&d.Name, &d.ID, &d.State, &d.Type, &d.SpamAction, &d.Wildcard, &d.RequireTLS, &d.SkipVerification,
		&d.WebScheme, &d.WebPrefix, &d.DKIMSelector, &d.DKIMKeyBits, &d.DKIMPrivate, &d.DKIMPublic, &d.ForceDKIMAuthority,
		&d.UseAutomaticSenderSecurity, &d.EncryptIncomingMessage, &d.MessageTTL, &d.ArchiveTo, &d.IPs, &d.PoolID,
		&d.MailFromHost, &checks, &created, &updated, &d.Tracking.Click, &d.Tracking.ClickHTMLOnly,
		&d.Tracking.Open, &d.Tracking.OpenTop, &d.Tracking.Unsubscribe, &d.Tracking.HTMLFooter, &d.Tracking.TextFooter, &d.AccountID)
	if err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(updated)
	if err := json.Unmarshal([]byte(checks), &d.DNSChecks); err != nil {
		return d, fmt.Errorf("domain %s: dns_checks: %w", d.Name, err)
	}
	return d, nil
}

// CreateDomain implements store.Regional.
func (r *Regional) CreateDomain(ctx context.Context, d store.Domain, postmaster *store.Credential) error {
	args, err := domainArgs(d)
	if err != nil {
		return err
	}
	return r.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO domains (`+domainColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		if err := tx.invalidate(ctx); err != nil {
			return err
		}
		if postmaster == nil {
			return nil
		}
		_, err := tx.exec(ctx, `INSERT INTO credentials (login, domain, hash, created_at) VALUES (?, ?, ?, ?)`,
			postmaster.Login, d.Name, postmaster.Hash, ts(postmaster.CreatedAt))
		return err
	})
}

// Domain implements store.Regional.
func (r *Regional) Domain(ctx context.Context, name string) (store.Domain, error) {
	if d, ok := lookup(r.DB, &r.cache.domains, name); ok {
		return cloneDomain(d), nil
	}
	gen, _ := r.cache.current()
	d, err := scanDomain(r.queryRow(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = ?`, name))
	if err == nil {
		keep(r.DB, &r.cache.domains, name, gen, cloneDomain(d))
	}
	return d, notFound(err)
}

// Domains implements store.Regional.
func (r *Regional) Domains(ctx context.Context, skip, limit int) ([]store.Domain, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM domains`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+domainColumns+` FROM domains ORDER BY name LIMIT ? OFFSET ?`, limit, skip)
	return scanDomains(rows, err, total)
}

// AccountDomains implements store.Regional.
func (r *Regional) AccountDomains(ctx context.Context, account string, skip, limit int) ([]store.Domain, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM domains WHERE account_id = ?`, account).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+domainColumns+` FROM domains WHERE account_id = ? ORDER BY name LIMIT ? OFFSET ?`,
		account, limit, skip)
	return scanDomains(rows, err, total)
}

func scanDomains(rows *sql.Rows, err error, total int) ([]store.Domain, int, error) {
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []store.Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

// UpdateDomain implements store.Regional.
func (r *Regional) UpdateDomain(ctx context.Context, d store.Domain) error {
	args, err := domainArgs(d)
	if err != nil {
		return err
	}
	// Every column but name, id, created_at and account_id (the last); the
	// WHERE takes the name.
	return r.inTx(ctx, func(tx *Tx) error {
		if err := affected(tx.exec(ctx, `UPDATE domains SET state = ?, type = ?, spam_action = ?, wildcard = ?,
		require_tls = ?, skip_verification = ?, web_scheme = ?, web_prefix = ?, dkim_selector = ?,
		dkim_key_bits = ?, dkim_private = ?, dkim_public = ?, force_dkim_authority = ?,
		use_automatic_sender_security = ?, encrypt_incoming_message = ?, message_ttl = ?, archive_to = ?,
		ips = ?, pool_id = ?, mailfrom_host = ?, dns_checks = ?, updated_at = ?, click_active = ?,
		click_htmlonly = ?, open_active = ?, open_top = ?, unsubscribe_active = ?, unsubscribe_html_footer = ?,
		unsubscribe_text_footer = ?
		WHERE name = ?`, append(append(args[2:23:23], args[24:len(args)-1]...), d.Name)...)); err != nil {
			return err
		}
		return tx.invalidate(ctx)
	})
}

// domainTables are the regional tables with a domain column; deleting a
// domain clears them all.
var domainTables = []string{"credentials", "messages", "queue", "events", "idempotency",
	"webhooks", "webhook_cursors", "webhook_retries",
	"suppressions", "suppression_imports", "tags", "stat_counters", "stat_uniques",
	"inbound_messages", "inbound_jobs", "templates", "template_versions"}

// DeleteDomain implements store.Regional.
func (r *Regional) DeleteDomain(ctx context.Context, name string) error {
	defer r.forgetTags(name, "")
	return r.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM domains WHERE name = ?`, name)
		if err := affected(res, err); err != nil {
			return err
		}
		if err := tx.invalidate(ctx); err != nil {
			return err
		}
		for _, t := range domainTables {
			if _, err := tx.exec(ctx, `DELETE FROM `+t+` WHERE domain = ?`, name); err != nil {
				return err
			}
		}
		return nil
	})
}
