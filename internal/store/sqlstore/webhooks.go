package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// horizon is the SQL for the outbox horizon: on PostgreSQL the oldest
// transaction still in flight (every event of an older transaction is
// committed or gone, so that set is final); on SQLite 1, above every txid
// (all 0), since its one writer makes seq order commit order.
func (db *DB) horizon() string {
	if db.dialect.postgres() {
		return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
	}
	return "1"
}

// Webhooks implements store.WebhookStore.
func (r *Regional) Webhooks(ctx context.Context, domain string) (store.WebhookSet, error) {
	rows, err := r.query(ctx, `SELECT kind, url FROM webhooks WHERE domain = ? ORDER BY kind, position`, domain)
	return scanWebhookSet(rows, err)
}

func scanWebhookSet(rows *sql.Rows, err error) (store.WebhookSet, error) {
	type pair struct{ kind, url string }
	ps, err := scanRows(rows, err, func(s scanner) (pair, error) {
		var p pair
		return p, s.Scan(&p.kind, &p.url)
	})
	set := store.WebhookSet{}
	for _, p := range ps {
		set[p.kind] = append(set[p.kind], p.url)
	}
	return set, err
}

// UpdateWebhooks implements store.WebhookStore.
func (r *Regional) UpdateWebhooks(ctx context.Context, domain string, now time.Time, edit func(store.WebhookSet) (store.WebhookSet, error)) (store.WebhookSet, error) {
	var out store.WebhookSet
	err := r.inTx(ctx, func(tx *Tx) error {
		// Locking the domain row makes edits of one domain on several
		// PostgreSQL nodes wait for each other (SQLite has one writer).
		lock := ""
		if r.dialect.postgres() {
			lock = " FOR UPDATE"
		}
		var name string
		if err := tx.queryRow(ctx, `SELECT name FROM domains WHERE name = ?`+lock, domain).Scan(&name); err != nil {
			return notFound(err)
		}
		rows, err := tx.rawQuery(ctx, r.q(`SELECT kind, url FROM webhooks WHERE domain = ? ORDER BY kind, position`), domain)
		current, err := scanWebhookSet(rows, err)
		if err != nil {
			return err
		}
		next, err := edit(current)
		if err != nil {
			return err
		}
		if err := writeWebhookSet(ctx, tx, domain, next); err != nil {
			return err
		}
		if err := r.syncCursors(ctx, tx, domain, current.URLs(), next.URLs(), now); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

func writeWebhookSet(ctx context.Context, tx *Tx, domain string, set store.WebhookSet) error {
	if _, err := tx.exec(ctx, `DELETE FROM webhooks WHERE domain = ?`, domain); err != nil {
		return err
	}
	for kind, urls := range set {
		for i, u := range urls {
			if _, err := tx.exec(ctx, `INSERT INTO webhooks (domain, kind, url, position) VALUES (?, ?, ?, ?)`,
				domain, kind, u, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncCursors gives URLs new to the domain a cursor at the outbox's end
// and removes the cursors and retries of URLs it no longer uses.
//
// The end is (horizon-1, newest seq): on SQLite (0, newest seq), exactly
// what is committed; on PostgreSQL every event of a transaction still in
// flight is after it, so an event that commits after this change is never
// behind the new cursor (a few committed just before may be sent too).
func (r *Regional) syncCursors(ctx context.Context, tx *Tx, domain string, before, after []string, now time.Time) error {
	for _, u := range before {
		if slices.Contains(after, u) {
			continue
		}
		for _, table := range []string{"webhook_cursors", "webhook_retries"} {
			if _, err := tx.exec(ctx, `DELETE FROM `+table+` WHERE domain = ? AND url = ?`, domain, u); err != nil {
				return err
			}
		}
	}
	for _, u := range after {
		if slices.Contains(before, u) {
			continue
		}
		if _, err := tx.exec(ctx, `INSERT INTO webhook_cursors (domain, url, txid, seq, lease_owner, lease_until, created_at,
				posted, failures, dropped, last_attempt_at, last_status, last_error)
			SELECT ?, ?, `+r.horizon()+` - 1, COALESCE(MAX(seq), 0), '', 0, CAST(? AS BIGINT), 0, 0, 0, 0, 0, '' FROM events`,
			domain, u, ts(now)); err != nil {
			return err
		}
	}
	return nil
}

const cursorCols = `domain, url, txid, seq, lease_owner, lease_until, created_at, posted, failures, dropped,
	last_attempt_at, last_status, last_error`

func scanCursor(s scanner) (store.WebhookCursor, error) {
	var c store.WebhookCursor
	var lease, created, last int64
	err := s.Scan(&c.Domain, &c.URL, &c.Pos.TxID, &c.Pos.Seq, &c.LeaseOwner, &lease, &created,
		&c.Posted, &c.Failures, &c.Dropped, &last, &c.LastStatus, &c.LastError)
	c.LeaseUntil, c.CreatedAt, c.LastAttemptAt = fromTS(lease), fromTS(created), fromTS(last)
	return c, err
}

// WebhookCursors implements store.WebhookStore.
func (r *Regional) WebhookCursors(ctx context.Context, domain string) ([]store.WebhookCursor, error) {
	rows, err := r.query(ctx, `SELECT `+cursorCols+` FROM webhook_cursors WHERE (? = '' OR domain = ?)
		ORDER BY domain, url`, domain, domain)
	return scanRows(rows, err, scanCursor)
}

// LeaseWebhookCursor implements store.WebhookStore.
func (r *Regional) LeaseWebhookCursor(ctx context.Context, domain, url, owner string, now, until time.Time) (bool, error) {
	res, err := r.exec(ctx, `UPDATE webhook_cursors SET lease_owner = ?, lease_until = ?
		WHERE domain = ? AND url = ? AND (lease_owner = ? OR lease_until <= ?)`,
		owner, ts(until), domain, url, owner, ts(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ReleaseWebhookCursor implements store.WebhookStore.
func (r *Regional) ReleaseWebhookCursor(ctx context.Context, domain, url, owner string) error {
	_, err := r.exec(ctx, `UPDATE webhook_cursors SET lease_owner = '', lease_until = 0
		WHERE domain = ? AND url = ? AND lease_owner = ?`, domain, url, owner)
	return err
}

// OutboxEvents implements store.WebhookStore.
func (r *Regional) OutboxEvents(ctx context.Context, domain string, after store.OutboxPos, limit int) ([]store.OutboxEvent, error) {
	// PostgreSQL seeks the (domain, txid, seq) index with the row
	// comparison; SQLite would scan every entry of the domain from the
	// lowest txid with it, so there, where every txid is 0, the position
	// is (txid =, seq >).
	past := `(txid, seq) > (?, ?)`
	if !r.dialect.postgres() {
		past = `txid = ? AND seq > ?`
	}
	rows, err := r.query(ctx, `SELECT seq, txid, id, domain, type, severity, ts, message_id, recipient, data, part, part_at
		FROM events WHERE domain = ? AND `+past+` AND txid < `+r.horizon()+`
		ORDER BY txid, seq LIMIT ?`, domain, after.TxID, after.Seq, limit)
	var stored []storedEvent
	var ids []string
	evs, err := scanRows(rows, err, func(s scanner) (store.OutboxEvent, error) {
		var e store.OutboxEvent
		var t int64
		var se storedEvent
		err := s.Scan(&e.Seq, &e.TxID, &e.ID, &e.Domain, &e.Type, &e.Severity, &t, &e.MessageID, &e.Recipient,
			&se.data, &se.part, &se.partAt)
		e.Timestamp = time.UnixMicro(t).UTC()
		stored, ids = append(stored, se), append(ids, e.MessageID)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	data, err := r.joinParts(ctx, domain, stored, ids)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		evs[i].Data = data[i]
	}
	return evs, nil
}

// OutboxHead implements store.WebhookStore.
func (r *Regional) OutboxHead(ctx context.Context) (store.OutboxPos, error) {
	var p store.OutboxPos
	err := r.queryRow(ctx, `SELECT `+r.horizon()+`, COALESCE(MAX(seq), 0) FROM events`).Scan(&p.TxID, &p.Seq)
	return p, err
}

const retryCols = `r.domain, r.url, r.event_seq, r.event_id, r.kind, r.attempts, r.first_attempt_at, r.last_attempt_at,
	r.next_attempt_at, r.last_status, r.last_error`

// WebhookRetries implements store.WebhookStore.
func (r *Regional) WebhookRetries(ctx context.Context, domain, url string, dueBy time.Time, limit int) ([]store.WebhookRetry, error) {
	due := int64(1<<63 - 1)
	if !dueBy.IsZero() {
		due = dueBy.UnixMicro()
	}
	rows, err := r.query(ctx, `SELECT `+retryCols+`, e.data, e.message_id, e.part, e.part_at
		FROM webhook_retries r LEFT JOIN events e ON e.seq = r.event_seq
		WHERE r.domain = ? AND r.url = ? AND r.next_attempt_at <= ?
		ORDER BY r.next_attempt_at, r.event_seq LIMIT ?`, domain, url, due, limit)
	var stored []storedEvent
	var ids []string
	var found []int
	ws, err := scanRows(rows, err, func(s scanner) (store.WebhookRetry, error) {
		var w store.WebhookRetry
		var first, last, next int64
		var data, messageID sql.NullString
		var se storedEvent
		var partAt sql.NullInt64
		err := s.Scan(&w.Domain, &w.URL, &w.EventSeq, &w.EventID, &w.Kind, &w.Attempts, &first, &last, &next,
			&w.LastStatus, &w.LastError, &data, &messageID, &se.part, &partAt)
		w.FirstAttemptAt, w.LastAttemptAt, w.NextAttemptAt = fromTS(first), fromTS(last), fromTS(next)
		if data.Valid { // the event is still there (LEFT JOIN)
			se.data, se.partAt = data.String, int(partAt.Int64)
			found = append(found, len(stored))
			stored, ids = append(stored, se), append(ids, messageID.String)
		} else {
			found = append(found, -1)
		}
		return w, err
	})
	if err != nil {
		return nil, err
	}
	joined, err := r.joinParts(ctx, domain, stored, ids)
	if err != nil {
		return nil, err
	}
	for i, j := range found {
		if j >= 0 {
			ws[i].Data = joined[j]
		}
	}
	return ws, nil
}

// RecordWebhookBatch implements store.WebhookStore.
func (r *Regional) RecordWebhookBatch(ctx context.Context, b store.WebhookBatch) error {
	set := `posted = posted + ?, failures = failures + ?, dropped = dropped + ?`
	args := []any{b.Posted, b.Failures, b.Dropped}
	if b.Advance != nil {
		set += `, txid = ?, seq = ?`
		args = append(args, b.Advance.TxID, b.Advance.Seq)
	}
	if !b.LastAttemptAt.IsZero() {
		set += `, last_attempt_at = ?, last_status = ?, last_error = ?`
		args = append(args, ts(b.LastAttemptAt), b.LastStatus, b.LastError)
	}
	where := `domain = ? AND url = ? AND lease_owner = ?`
	args = append(args, b.Domain, b.URL, b.Owner)
	if b.Advance != nil {
		if b.From == nil {
			return fmt.Errorf("webhook batch of %s moves the cursor without saying from where", b.URL)
		}
		where += ` AND txid = ? AND seq = ?`
		args = append(args, b.From.TxID, b.From.Seq)
	}
	return r.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE webhook_cursors SET `+set+` WHERE `+where, args...)
		if err := affected(res, err); err != nil {
			return err
		}
		for _, w := range b.Retry {
			if _, err := tx.exec(ctx, `INSERT INTO webhook_retries (domain, url, event_seq, event_id, kind, attempts,
					first_attempt_at, last_attempt_at, next_attempt_at, last_status, last_error)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (domain, url, event_seq) DO UPDATE SET attempts = excluded.attempts,
					last_attempt_at = excluded.last_attempt_at, next_attempt_at = excluded.next_attempt_at,
					last_status = excluded.last_status, last_error = excluded.last_error`,
				b.Domain, b.URL, w.EventSeq, w.EventID, w.Kind, w.Attempts, ts(w.FirstAttemptAt),
				ts(w.LastAttemptAt), ts(w.NextAttemptAt), w.LastStatus, w.LastError); err != nil {
				return err
			}
		}
		for _, seq := range b.Done {
			if _, err := tx.exec(ctx, `DELETE FROM webhook_retries WHERE domain = ? AND url = ? AND event_seq = ?`,
				b.Domain, b.URL, seq); err != nil {
				return err
			}
		}
		return nil
	})
}
