package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var _ store.EnvelopeStore = (*Regional)(nil)

// WaitingJobs implements store.EnvelopeStore.
func (r *Regional) WaitingJobs(ctx context.Context, domain string, now time.Time, afterID int64, limit int) ([]store.Job, error) {
	rows, err := r.query(ctx, `SELECT `+jobSelect+` FROM queue WHERE domain = ? AND id > ? AND lease_until < ?
		ORDER BY id LIMIT ?`, domain, afterID, ts(now), limit)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows)
}

// DropJobs implements store.EnvelopeStore.
func (r *Regional) DropJobs(ctx context.Context, drops []store.Outcome, now time.Time) (int, error) {
	sorted := slices.Clone(drops)
	slices.SortFunc(sorted, func(a, b store.Outcome) int { return cmp.Compare(a.JobID, b.JobID) })
	n := 0
	err := r.inTx(ctx, func(tx *Tx) error {
		n = 0
		for _, d := range sorted {
			res, err := tx.exec(ctx, `DELETE FROM queue WHERE id = ? AND lease_until < ?`, d.JobID, ts(now))
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 0 {
				continue // claimed meanwhile: its delivery goes on
			}
			n++
			for _, e := range d.Events {
				tx.addEvent(e)
			}
		}
		return nil
	})
	return n, err
}
