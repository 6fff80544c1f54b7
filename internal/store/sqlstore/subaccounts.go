package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

const subaccountColumns = `id, name, status, created_at, updated_at`

func scanSubaccount(s scanner) (store.Subaccount, error) {
	var a store.Subaccount
	var created, updated int64
	err := s.Scan(&a.ID, &a.Name, &a.Status, &created, &updated)
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	return a, err
}

// CreateSubaccount implements store.SubaccountStore.
func (g *Global) CreateSubaccount(ctx context.Context, a store.Subaccount) error {
	_, err := g.exec(ctx, `INSERT INTO subaccounts (`+subaccountColumns+`) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Status, ts(a.CreatedAt), ts(a.UpdatedAt))
	return err
}

// Subaccount implements store.SubaccountStore.
func (g *Global) Subaccount(ctx context.Context, id string) (store.Subaccount, error) {
	a, err := scanSubaccount(g.queryRow(ctx, `SELECT `+subaccountColumns+` FROM subaccounts WHERE id = ?`, id))
	return a, notFound(err)
}

// Subaccounts implements store.SubaccountStore.
func (g *Global) Subaccounts(ctx context.Context, f store.SubaccountFilter, skip, limit int) ([]store.Subaccount, int, error) {
	// LIKE's wildcards in the filter are matched literally.
	name := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Name)) + "%"
	where := ` WHERE (? = '' OR status = ?) AND LOWER(name) LIKE ? ESCAPE '\'`
	args := []any{f.Status, f.Status, name}
	var total int
	if err := g.queryRow(ctx, `SELECT COUNT(*) FROM subaccounts`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := ` ORDER BY created_at, id`
	if f.Desc {
		order = ` ORDER BY created_at DESC, id DESC`
	}
	rows, err := g.query(ctx, `SELECT `+subaccountColumns+` FROM subaccounts`+where+order+` LIMIT ? OFFSET ?`,
		append(args, limit, skip)...)
	out, err := scanRows(rows, err, scanSubaccount)
	return out, total, err
}

// SetSubaccountStatus implements store.SubaccountStore.
func (g *Global) SetSubaccountStatus(ctx context.Context, id, status string, now time.Time) (store.Subaccount, error) {
	var a store.Subaccount
	err := g.inTx(ctx, func(tx *Tx) error {
		if err := affected(tx.exec(ctx, `UPDATE subaccounts SET status = ?, updated_at = ? WHERE id = ?`,
			status, ts(now), id)); err != nil {
			return err
		}
		var err error
		a, err = scanSubaccount(tx.queryRow(ctx, `SELECT `+subaccountColumns+` FROM subaccounts WHERE id = ?`, id))
		return notFound(err)
	})
	return a, err
}
