package sqlstore

import (
	"context"

	"github.com/salvo-email/salvo/internal/store"
)

// PutUsage implements store.UsageStore.
func (g *Global) PutUsage(ctx context.Context, rows []store.Usage) error {
	return g.inTx(ctx, func(tx *Tx) error {
		for _, u := range rows {
			if _, err := tx.exec(ctx, `INSERT INTO usage (domain, month, account_id, region, accepted, delivered, failed, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (domain, month) DO UPDATE SET account_id = excluded.account_id, region = excluded.region,
					accepted = excluded.accepted, delivered = excluded.delivered, failed = excluded.failed,
					updated_at = excluded.updated_at`,
				u.Domain, u.Month, u.AccountID, u.Region, u.Accepted, u.Delivered, u.Failed, ts(u.UpdatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Usage implements store.UsageStore.
func (g *Global) Usage(ctx context.Context, month string) ([]store.Usage, error) {
	rows, err := g.query(ctx, `SELECT domain, month, account_id, region, accepted, delivered, failed, updated_at
		FROM usage WHERE month = ? ORDER BY domain`, month)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Usage
	for rows.Next() {
		var u store.Usage
		var updated int64
		if err := rows.Scan(&u.Domain, &u.Month, &u.AccountID, &u.Region, &u.Accepted, &u.Delivered, &u.Failed, &updated); err != nil {
			return nil, err
		}
		u.UpdatedAt = fromTS(updated)
		out = append(out, u)
	}
	return out, rows.Err()
}
