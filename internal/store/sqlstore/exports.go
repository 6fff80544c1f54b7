package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var _ store.ExportStore = (*Regional)(nil)

// exportCols are the columns of exports but data.
const exportCols = `id, url, domain, list, state, rows_done, message, lease_until, lease_owner, created_at, updated_at`

func scanExport(sc scanner, withData bool) (store.Export, error) {
	var e store.Export
	var lease, created, updated int64
	dest := []any{&e.ID, &e.URL, &e.Domain, &e.List, &e.State, &e.Rows, &e.Message, &lease, &e.Owner, &created, &updated}
	if withData {
		dest = append(dest, &e.Data)
	}
	err := sc.Scan(dest...)
	e.LeaseUntil, e.CreatedAt, e.UpdatedAt = fromTS(lease), fromTS(created), fromTS(updated)
	return e, err
}

// CreateExport implements store.ExportStore.
func (r *Regional) CreateExport(ctx context.Context, e store.Export) error {
	if e.Data == nil {
		e.Data = []byte{}
	}
	_, err := r.exec(ctx, `INSERT INTO exports (`+exportCols+`, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.URL, e.Domain, e.List, e.State, e.Rows, e.Message, ts(e.LeaseUntil), e.Owner, ts(e.CreatedAt),
		ts(e.UpdatedAt), e.Data)
	return err
}

// Export implements store.ExportStore.
func (r *Regional) Export(ctx context.Context, id string, withData bool) (store.Export, error) {
	cols := exportCols
	if withData {
		cols += ", data"
	}
	e, err := scanExport(r.queryRow(ctx, `SELECT `+cols+` FROM exports WHERE id = ?`, id), withData)
	return e, notFound(err)
}

// Exports implements store.ExportStore.
func (r *Regional) Exports(ctx context.Context, url string, since time.Time, limit int) ([]store.Export, error) {
	rows, err := r.query(ctx, `SELECT `+exportCols+` FROM exports WHERE created_at >= ? AND (? = '' OR url = ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`, ts(since), url, url, limit)
	return scanRows(rows, err, func(s scanner) (store.Export, error) { return scanExport(s, false) })
}

// ClaimExport implements store.ExportStore.
func (r *Regional) ClaimExport(ctx context.Context, owner string, now, lease time.Time) (*store.Export, error) {
	lock := ""
	if r.dialect.postgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := r.rebind(`UPDATE exports SET state = ?, lease_until = ?, lease_owner = ?, updated_at = ?
		WHERE id IN (SELECT id FROM exports WHERE state = ? OR (state = ? AND lease_until < ?)
			ORDER BY created_at, id LIMIT 1` + lock + `)
		RETURNING ` + exportCols)
	var out *store.Export
	err := r.inTx(ctx, func(tx *Tx) error {
		out = nil
		e, err := scanExport(tx.rawQueryRow(ctx, query, store.ExportProcessing, ts(lease), owner, ts(now),
			store.ExportQueued, store.ExportProcessing, ts(now)), false)
		if err == sql.ErrNoRows {
			return nil
		}
		if err == nil {
			out = &e
		}
		return err
	})
	return out, err
}

// FinishExport implements store.ExportStore.
func (r *Regional) FinishExport(ctx context.Context, e store.Export) error {
	if e.Data == nil {
		e.Data = []byte{}
	}
	return r.inTx(ctx, func(tx *Tx) error {
		return notFound(affected(tx.exec(ctx, `UPDATE exports SET state = ?, rows_done = ?, message = ?, data = ?,
			updated_at = ? WHERE id = ? AND lease_owner = ? AND state = ?`,
			e.State, e.Rows, e.Message, e.Data, ts(e.UpdatedAt), e.ID, e.Owner, store.ExportProcessing)))
	})
}

// DeleteExports implements store.ExportStore.
func (r *Regional) DeleteExports(ctx context.Context, before time.Time) error {
	return r.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM exports WHERE created_at < ?`, ts(before))
		return err
	})
}
