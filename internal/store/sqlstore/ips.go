package sqlstore

import (
	"context"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

var _ store.IPPoolStore = (*Regional)(nil)

const poolCols = `id, name, description, ips, created_at`

func scanPool(s scanner) (store.IPPool, error) {
	var p store.IPPool
	var list string
	var created int64
	err := s.Scan(&p.ID, &p.Name, &p.Description, &list, &created)
	p.CreatedAt = fromTS(created)
	for _, ip := range strings.Split(list, ",") {
		if ip != "" {
			p.IPs = append(p.IPs, ip)
		}
	}
	return p, err
}

// CreateIPPool implements store.IPPoolStore.
func (r *Regional) CreateIPPool(ctx context.Context, p store.IPPool) error {
	return r.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO ip_pools (`+poolCols+`) VALUES (?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Description, strings.Join(p.IPs, ","), ts(p.CreatedAt))
		return err
	})
}

// IPPool implements store.IPPoolStore.
func (r *Regional) IPPool(ctx context.Context, id string) (store.IPPool, error) {
	p, err := scanPool(r.queryRow(ctx, `SELECT `+poolCols+` FROM ip_pools WHERE id = ?`, id))
	return p, notFound(err)
}

// IPPools implements store.IPPoolStore.
func (r *Regional) IPPools(ctx context.Context) ([]store.IPPool, error) {
	rows, err := r.query(ctx, `SELECT `+poolCols+` FROM ip_pools ORDER BY name, id`)
	return scanRows(rows, err, scanPool)
}

// UpdateIPPool implements store.IPPoolStore.
func (r *Regional) UpdateIPPool(ctx context.Context, p store.IPPool) error {
	return r.inTx(ctx, func(tx *Tx) error {
		return affected(tx.exec(ctx, `UPDATE ip_pools SET name = ?, description = ?, ips = ? WHERE id = ?`,
			p.Name, p.Description, strings.Join(p.IPs, ","), p.ID))
	})
}

// DeleteIPPool implements store.IPPoolStore.
func (r *Regional) DeleteIPPool(ctx context.Context, id string) error {
	return r.inTx(ctx, func(tx *Tx) error {
		return affected(tx.exec(ctx, `DELETE FROM ip_pools WHERE id = ?`, id))
	})
}
