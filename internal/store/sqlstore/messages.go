package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var (
	messageCols = []string{"storage_key", "domain", "message_id", "sender", "size", "body", "meta", "created_at", "expires_at"}
	jobCols     = []string{"message_key", "domain", "recipient", "rcpt_domain", "attempts", "next_attempt_at",
		"lease_until", "lease_owner", "created_at", "last_error", "vars"}
)

func jobRow(j store.Job) []any {
	var vars any
	if j.Vars != nil {
		vars = string(j.Vars)
	}
	return []any{j.MessageKey, j.Domain, j.Recipient, j.RcptDomain, j.Attempts, ts(j.NextAttemptAt),
		ts(j.LeaseUntil), "", ts(j.CreatedAt), j.LastError, vars}
}

// Accept implements store.MessageStore.
func (r *Regional) Accept(ctx context.Context, a store.Accept) (*store.Idempotency, error) {
	var previous *store.Idempotency
	now := a.Now
	if now.IsZero() {
		now = time.Now()
	}
	err := r.inTx(ctx, func(tx *Tx) error {
		previous = nil
		if id := a.Idempotency; id != nil {
			p, err := claimIdempotency(ctx, tx, id, now)
			if err != nil || p != nil {
				previous = p
				return err
			}
		}
		m := a.Message
		if m.Body == nil {
			m.Body = []byte{} // the column is NOT NULL; nil would be NULL
		}
		tx.later("messages", messageCols, []any{m.Key, m.Domain, m.MessageID, m.Sender,
			m.Size, m.Body, string(m.Meta), ts(m.CreatedAt), ts(m.ExpiresAt)})
		for _, e := range a.Events {
			tx.addEvent(e)
		}
		if a.Screen != nil && len(a.Jobs) > 0 {
			// The jobs wait for the group's one suppression query (flush).
			tx.screens = append(tx.screens, a)
			return nil
		}
		for _, j := range a.Jobs {
			tx.later("queue", jobCols, jobRow(j))
		}
		return nil
	})
	return previous, err
}

// claimIdempotency stores id unless a live record of its key exists, and
// returns that record then. It is one statement so that concurrent Accepts
// with one key (in other committers' transactions or on other nodes) wait
// for each other rather than fail on the primary key: the insert either
// takes the key, replaces an expired record, or touches nothing.
func claimIdempotency(ctx context.Context, tx *Tx, id *store.Idempotency, now time.Time) (*store.Idempotency, error) {
	res, err := tx.exec(ctx, `INSERT INTO idempotency (domain, key, fingerprint, response, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (domain, key) DO UPDATE SET fingerprint = excluded.fingerprint, response = excluded.response,
			expires_at = excluded.expires_at
		WHERE idempotency.expires_at <= ?`,
		id.Domain, id.Key, id.Fingerprint, string(id.Response), ts(id.ExpiresAt), now.UnixMicro())
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return nil, err
	}
	p := store.Idempotency{Domain: id.Domain, Key: id.Key}
	var resp string
	var exp int64
	err = tx.queryRow(ctx, `SELECT fingerprint, response, expires_at FROM idempotency WHERE domain = ? AND key = ?`,
		id.Domain, id.Key).Scan(&p.Fingerprint, &resp, &exp)
	if err != nil {
		return nil, err
	}
	p.Response, p.ExpiresAt = []byte(resp), fromTS(exp)
	return &p, nil
}

// Message implements store.MessageStore.
func (r *Regional) Message(ctx context.Context, domain, key string) (store.Message, error) {
	m, err := scanMessage(r.queryRow(ctx, `SELECT `+messageSelect+` FROM messages WHERE storage_key = ? AND domain = ?`, key, domain))
	return m, notFound(err)
}

const messageSelect = `storage_key, domain, message_id, sender, size, body, meta, created_at, expires_at`

func scanMessage(s scanner) (store.Message, error) {
	var m store.Message
	var meta string
	var created, expires int64
	err := s.Scan(&m.Key, &m.Domain, &m.MessageID, &m.Sender, &m.Size, &m.Body, &meta, &created, &expires)
	m.Meta, m.CreatedAt, m.ExpiresAt = []byte(meta), fromTS(created), fromTS(expires)
	return m, err
}

// Messages implements store.MessageStore.
func (r *Regional) Messages(ctx context.Context, domain string, keys []string) ([]store.Message, error) {
	var out []store.Message
	err := forChunks(keys, func(chunk []string) error {
		// By primary key alone, the domain checked below: with "domain = ?"
		// in the WHERE, SQLite would rather scan the domain's part of the
		// (domain, message_id) index.
		rows, err := r.query(ctx, `SELECT `+messageSelect+` FROM messages WHERE storage_key IN (`+marks(len(chunk))+`)`, anys(chunk)...)
		ms, err := scanRows(rows, err, scanMessage)
		for _, m := range ms {
			if m.Domain == domain {
				out = append(out, m)
			}
		}
		return err
	})
	return out, err
}

const jobSelect = `id, message_key, domain, recipient, rcpt_domain, attempts, next_attempt_at, lease_until,
	created_at, last_error, vars`

func scanJobs(rows *sql.Rows) ([]store.Job, error) {
	defer rows.Close()
	var out []store.Job
	for rows.Next() {
		var j store.Job
		var next, lease, created int64
		var vars sql.NullString
		if err := rows.Scan(&j.ID, &j.MessageKey, &j.Domain, &j.Recipient, &j.RcptDomain, &j.Attempts,
			&next, &lease, &created, &j.LastError, &vars); err != nil {
			return nil, err
		}
		j.NextAttemptAt, j.LeaseUntil, j.CreatedAt = fromTS(next), fromTS(lease), fromTS(created)
		if vars.Valid {
			j.Vars = []byte(vars.String)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// ReleaseDeferred implements store.MessageStore.
func (r *Regional) ReleaseDeferred(ctx context.Context, rcptDomain, marker string, now time.Time) (int, error) {
	q := `UPDATE queue SET next_attempt_at = ? WHERE next_attempt_at > ? AND lease_until <= ? AND substr(last_error, 1, ?) = ?`
	t := now.UnixMicro()
	args := []any{t, t, t, len(marker), marker}
	if rcptDomain != "" {
		q += ` AND rcpt_domain = ?`
		args = append(args, rcptDomain)
	}
	var n int
	err := r.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		rows, err := res.RowsAffected()
		n = int(rows)
		return err
	})
	return n, err
}

// Complete implements store.MessageStore.
func (r *Regional) Complete(ctx context.Context, outcomes []store.Outcome) error {
	sorted := slices.Clone(outcomes)
	slices.SortFunc(sorted, func(a, b store.Outcome) int { return cmp.Compare(a.JobID, b.JobID) })
	return r.inTx(ctx, func(tx *Tx) error {
		for _, o := range sorted {
			var err error
			if o.Done {
				_, err = tx.exec(ctx, `DELETE FROM queue WHERE id = ?`, o.JobID)
			} else {
				_, err = tx.exec(ctx, `UPDATE queue SET next_attempt_at = ?, lease_until = 0, lease_owner = '', last_error = ?
					WHERE id = ?`, ts(o.NextAttemptAt), o.LastError, o.JobID)
			}
			if err != nil {
				return err
			}
			if err := addBounce(ctx, tx, o.Bounce); err != nil {
				return err
			}
			if m := o.Stored; m != nil {
				tx.later("messages", messageCols, []any{m.Key, m.Domain, m.MessageID, m.Sender,
					m.Size, m.Body, string(m.Meta), ts(m.CreatedAt), ts(m.ExpiresAt)})
			}
			for _, e := range o.Events {
				tx.addEvent(e)
			}
		}
		return nil
	})
}

// ReleaseJobs implements store.MessageStore.
func (r *Regional) ReleaseJobs(ctx context.Context, ids []int64, at time.Time) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted) // id order, like Complete and RenewLeases
	return r.inTx(ctx, func(tx *Tx) error {
		for _, id := range sorted {
			if _, err := tx.exec(ctx, `UPDATE queue SET lease_until = 0, lease_owner = '', attempts = attempts - 1,
				next_attempt_at = ? WHERE id = ? AND lease_until <> 0`, ts(at), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RenewLeases implements store.MessageStore.
//
// On PostgreSQL it skips the rows another transaction has locked, instead
// of waiting for them: those are being completed or released, and a lease
// is renewed every third of its length, so a row skipped once is renewed
// next time if it is still held. Waiting deadlocked: a group commit holds
// the rows of several Complete calls, each sorted but not the group as a
// whole, and an UPDATE locks in the order its plan visits the rows; each
// deadlock stalled both transactions for PostgreSQL's deadlock_timeout
// (1 s) before one was retried.
func (r *Regional) RenewLeases(ctx context.Context, owner string, ids []int64, until time.Time) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted) // id order, like Complete and ReleaseJobs
	const chunk = 500
	for start := 0; start < len(sorted); start += chunk {
		part := sorted[start:min(len(sorted), start+chunk)]
		args := []any{ts(until), owner}
		for _, id := range part {
			args = append(args, id)
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")
		query := `UPDATE queue SET lease_until = ? WHERE lease_owner = ? AND lease_until > 0 AND id IN (` + in + `)`
		if r.dialect.postgres() {
			query = `UPDATE queue SET lease_until = ? WHERE id IN (SELECT id FROM queue
				WHERE lease_owner = ? AND lease_until > 0 AND id IN (` + in + `) FOR UPDATE SKIP LOCKED)`
		}
		if err := r.inTx(ctx, func(tx *Tx) error {
			_, err := tx.rawExec(ctx, r.rebind(query), args...)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// QueueStats implements store.MessageStore.
func (r *Regional) QueueStats(ctx context.Context, domain string, now time.Time) ([]store.DestinationStats, error) {
	n := now.UnixMicro()
	rows, err := r.query(ctx, `SELECT rcpt_domain, COUNT(*),
			SUM(CASE WHEN next_attempt_at <= ? AND lease_until <= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN lease_until > ? THEN 1 ELSE 0 END),
			MIN(next_attempt_at),
			COALESCE((SELECT q2.last_error FROM queue q2 WHERE q2.rcpt_domain = q.rcpt_domain AND q2.last_error <> ''
				AND (? = '' OR q2.domain = ?) ORDER BY q2.next_attempt_at DESC LIMIT 1), '')
		FROM queue q WHERE (? = '' OR domain = ?)
		GROUP BY rcpt_domain ORDER BY COUNT(*) DESC, rcpt_domain LIMIT 1000`,
		n, n, n, domain, domain, domain, domain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DestinationStats
	for rows.Next() {
		var s store.DestinationStats
		var next int64
		if err := rows.Scan(&s.RcptDomain, &s.Waiting, &s.Due, &s.InFlight, &next, &s.LastError); err != nil {
			return nil, err
		}
		s.NextAttemptAt = fromTS(next)
		out = append(out, s)
	}
	return out, rows.Err()
}

// JobsOfMessage implements store.MessageStore.
func (r *Regional) JobsOfMessage(ctx context.Context, domain, messageID string) ([]store.Job, error) {
	rows, err := r.query(ctx, `SELECT `+jobSelect+` FROM queue WHERE message_key IN
		(SELECT storage_key FROM messages WHERE domain = ? AND message_id = ?) ORDER BY id`, domain, messageID)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows)
}

// NextDue implements store.MessageStore.
func (r *Regional) NextDue(ctx context.Context) (time.Time, error) {
	// Walk queue_due from the earliest: only leased jobs (few) are skipped,
	// where MIN(…) WHERE lease_until = 0 would scan the whole queue.
	var next int64
	err := r.queryRowFresh(ctx, `SELECT next_attempt_at FROM queue WHERE lease_until = 0
		ORDER BY next_attempt_at, id LIMIT 1`).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return fromTS(next), nil
}

// purgeChunk bounds each purge transaction so writers never wait long.
const purgeChunk = 1000

// Purge implements store.MessageStore.
func (r *Regional) Purge(ctx context.Context, now, eventsBefore time.Time) (int, error) {
	total := 0
	steps := []struct {
		query string
		arg   int64
		count bool
	}{
		{`DELETE FROM messages WHERE storage_key IN (SELECT storage_key FROM messages m WHERE m.expires_at < ?
			AND NOT EXISTS (SELECT 1 FROM queue WHERE queue.message_key = m.storage_key) LIMIT ` + strconv.Itoa(purgeChunk) + `)`, now.UnixMicro(), true},
		{`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE ts < ? LIMIT ` + strconv.Itoa(purgeChunk) + `)`, eventsBefore.UnixMicro(), false},
		// Parts whose events all went (eventparts.go): a part's ts is its
		// latest event's, and the NOT EXISTS keeps one an event written
		// with an older time still uses.
		{`DELETE FROM event_parts WHERE (domain, message_id, digest) IN (SELECT domain, message_id, digest FROM event_parts p
			WHERE p.ts < ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.domain = p.domain AND e.message_id = p.message_id
				AND e.part = p.digest) LIMIT ` + strconv.Itoa(purgeChunk) + `)`, eventsBefore.UnixMicro(), false},
		{`DELETE FROM idempotency WHERE expires_at < ?`, now.UnixMicro(), false},
	}
	for _, s := range steps {
		for {
			res, err := r.exec(ctx, s.query, s.arg)
			if err != nil {
				return total, err
			}
			n, _ := res.RowsAffected()
			if s.count {
				total += int(n)
			}
			if n < purgeChunk || ctx.Err() != nil {
				break
			}
		}
	}
	return total, ctx.Err()
}

// AppendEvents implements store.MessageStore.
func (r *Regional) AppendEvents(ctx context.Context, events []store.Event) error {
	return r.inTx(ctx, func(tx *Tx) error {
		for _, e := range events {
			tx.addEvent(e)
		}
		return nil
	})
}

// Events implements store.MessageStore.
func (r *Regional) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	var where strings.Builder
	args := []any{q.Domain}
	where.WriteString(`domain = ?`)
	add := func(cond string, vals ...any) {
		where.WriteString(" AND " + cond)
		args = append(args, vals...)
	}
	if !q.Begin.IsZero() {
		add(`ts >= ?`, q.Begin.UnixMicro())
	}
	if !q.End.IsZero() {
		add(`ts < ?`, q.End.UnixMicro())
	}
	if q.Type != "" {
		add(`type = ?`, q.Type)
	}
	if q.Recipient != "" {
		add(`recipient = ?`, q.Recipient)
	}
	if q.MessageID != "" {
		add(`message_id = ?`, q.MessageID)
	}
	order := "ASC"
	if q.After != nil {
		if q.Ascending {
			add(`(ts > ? OR (ts = ? AND seq > ?))`, q.After.TS, q.After.TS, q.After.Seq)
		} else {
			add(`(ts < ? OR (ts = ? AND seq < ?))`, q.After.TS, q.After.TS, q.After.Seq)
		}
	}
	if !q.Ascending {
		order = "DESC"
	}
	args = append(args, q.Limit)
	rows, err := r.query(ctx, `SELECT seq, id, domain, type, severity, ts, message_id, recipient, data, part, part_at FROM events
		WHERE `+where.String()+` ORDER BY ts `+order+`, seq `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Event
	var stored []storedEvent
	var ids []string
	for rows.Next() {
		var e store.Event
		var t int64
		var se storedEvent
		if err := rows.Scan(&e.Seq, &e.ID, &e.Domain, &e.Type, &e.Severity, &t, &e.MessageID, &e.Recipient,
			&se.data, &se.part, &se.partAt); err != nil {
			return nil, err
		}
		e.Timestamp = time.UnixMicro(t).UTC()
		out, stored, ids = append(out, e), append(stored, se), append(ids, e.MessageID)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if q.Split {
		parts, err := r.readParts(ctx, q.Domain, stored, ids)
		if err != nil {
			return nil, err
		}
		for i, se := range stored {
			out[i].Data = []byte(se.data)
			if se.part != nil && se.partAt >= 0 && se.partAt <= len(se.data) {
				out[i].Part, out[i].PartAt = parts[i], se.partAt
			}
		}
		return out, nil
	}
	data, err := r.joinParts(ctx, q.Domain, stored, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Data = data[i]
	}
	return out, nil
}
