package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

var (
	inboundCols    = []string{"storage_key", "domain", "sender", "recipients", "helo", "client_ip", "tls", "body", "received_at"}
	inboundJobCols = []string{"kind", "message_key", "domain", "payload", "attempts", "next_attempt_at",
		"lease_until", "lease_owner", "created_at", "last_error"}
)

const inboundJobSelect = `id, kind, message_key, domain, payload, attempts, next_attempt_at, lease_until, created_at, last_error`

func inboundJobRow(j store.InboundJob) []any {
	payload := string(j.Payload)
	if payload == "" {
		payload = "{}"
	}
	return []any{j.Kind, j.MessageKey, j.Domain, payload, j.Attempts, ts(j.NextAttemptAt),
		ts(j.LeaseUntil), "", ts(j.CreatedAt), j.LastError}
}

func scanInboundJob(s scanner) (store.InboundJob, error) {
	var j store.InboundJob
	var payload string
	var next, lease, created int64
	err := s.Scan(&j.ID, &j.Kind, &j.MessageKey, &j.Domain, &payload, &j.Attempts, &next, &lease, &created, &j.LastError)
	j.Payload = []byte(payload)
	j.NextAttemptAt, j.LeaseUntil, j.CreatedAt = fromTS(next), fromTS(lease), fromTS(created)
	return j, err
}

// ReceiveInbound implements store.InboundStore.
func (r *Regional) ReceiveInbound(ctx context.Context, m store.InboundMessage) (int64, error) {
	rcpts, err := json.Marshal(m.Recipients)
	if err != nil {
		return 0, err
	}
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	attempts := 0
	if m.LeaseOwner != "" {
		attempts = 1 // the receiving node starts the first attempt at once
	}
	var id int64
	err = r.inTx(ctx, func(tx *Tx) error {
		tx.later("inbound_messages", inboundCols, []any{m.Key, m.Domain, m.Sender, string(rcpts), m.Helo,
			m.ClientIP, m.TLS, body, ts(m.ReceivedAt)})
		return tx.queryRow(ctx, `INSERT INTO inbound_jobs (kind, message_key, domain, payload, attempts, next_attempt_at,
			lease_until, lease_owner, created_at, last_error) VALUES (?, ?, ?, '{}', ?, ?, ?, ?, ?, '') RETURNING id`,
			store.InboundRoute, m.Key, m.Domain, attempts, ts(m.ReceivedAt), ts(m.LeaseUntil), m.LeaseOwner,
			ts(m.ReceivedAt)).Scan(&id)
	})
	return id, err
}

// InboundMessage implements store.InboundStore.
func (r *Regional) InboundMessage(ctx context.Context, key string) (store.InboundMessage, error) {
	var m store.InboundMessage
	var rcpts string
	var received int64
	err := r.queryRow(ctx, `SELECT storage_key, domain, sender, recipients, helo, client_ip, tls, body, received_at
		FROM inbound_messages WHERE storage_key = ?`, key).
		Scan(&m.Key, &m.Domain, &m.Sender, &rcpts, &m.Helo, &m.ClientIP, &m.TLS, &m.Body, &received)
	if err != nil {
		return m, notFound(err)
	}
	m.ReceivedAt = fromTS(received)
	if err := json.Unmarshal([]byte(rcpts), &m.Recipients); err != nil {
		return m, fmt.Errorf("inbound message %s: recipients: %w", key, err)
	}
	return m, nil
}

// ClaimInbound implements store.InboundStore.
func (r *Regional) ClaimInbound(ctx context.Context, c store.Claim) ([]store.InboundJob, error) {
	now := c.Now.UnixMicro()
	lock := ""
	if r.dialect.postgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := r.rebind(`UPDATE inbound_jobs SET lease_until = ?, lease_owner = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM inbound_jobs WHERE next_attempt_at <= ? AND lease_until <= ?
			ORDER BY next_attempt_at, id LIMIT ?` + lock + `)
		RETURNING ` + inboundJobSelect)
	var out []store.InboundJob
	err := r.inTx(ctx, func(tx *Tx) error {
		rows, err := tx.rawQuery(ctx, query, now+c.Lease.Microseconds(), c.Owner, now, now, c.Limit)
		out, err = scanRows(rows, err, scanInboundJob)
		return err
	})
	slices.SortFunc(out, func(a, b store.InboundJob) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// FinishInbound implements store.InboundStore.
func (r *Regional) FinishInbound(ctx context.Context, results []store.InboundResult) error {
	return r.inTx(ctx, func(tx *Tx) error {
		for _, res := range results {
			if err := finishInbound(ctx, tx, res); err != nil {
				return err
			}
		}
		return nil
	})
}

func finishInbound(ctx context.Context, tx *Tx, res store.InboundResult) error {
	var err error
	if res.Done {
		_, err = tx.exec(ctx, `DELETE FROM inbound_jobs WHERE id = ?`, res.JobID)
	} else {
		_, err = tx.exec(ctx, `UPDATE inbound_jobs SET next_attempt_at = ?, lease_until = 0, lease_owner = '', last_error = ?
			WHERE id = ?`, ts(res.NextAttemptAt), res.LastError, res.JobID)
	}
	if err != nil {
		return err
	}
	// Follow-up jobs are inserted at once: the check below must see them.
	for _, j := range res.Jobs {
		if _, err := tx.exec(ctx, `INSERT INTO inbound_jobs (kind, message_key, domain, payload, attempts,
			next_attempt_at, lease_until, lease_owner, created_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inboundJobRow(j)...); err != nil {
			return err
		}
	}
	if res.Body != nil {
		if _, err := tx.exec(ctx, `UPDATE inbound_messages SET body = ? WHERE storage_key = ?`, res.Body, res.MessageKey); err != nil {
			return err
		}
	}
	for _, m := range res.Stored {
		tx.later("messages", messageCols, []any{m.Key, m.Domain, m.MessageID, m.Sender,
			m.Size, m.Body, string(m.Meta), ts(m.CreatedAt), ts(m.ExpiresAt)})
	}
	for _, e := range res.Events {
		tx.insertEvent(e)
	}
	for _, e := range res.Returned {
		tx.addEvent(e)
	}
	for _, sup := range res.Suppressions {
		if sup.List == store.Bounces {
			err = addBounce(ctx, tx, &sup)
		} else {
			err = putSuppressions(ctx, tx, []store.Suppression{sup})
		}
		if err != nil {
			return err
		}
	}
	if res.Done && res.MessageKey != "" {
		_, err = tx.exec(ctx, `DELETE FROM inbound_messages WHERE storage_key = ?
			AND NOT EXISTS (SELECT 1 FROM inbound_jobs WHERE message_key = ?)`, res.MessageKey, res.MessageKey)
	}
	return err
}

// ReleaseInbound implements store.InboundStore.
func (r *Regional) ReleaseInbound(ctx context.Context, ids []int64, at time.Time) error {
	return r.inTx(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if _, err := tx.exec(ctx, `UPDATE inbound_jobs SET lease_until = 0, lease_owner = '', attempts = attempts - 1,
				next_attempt_at = ? WHERE id = ? AND lease_until <> 0`, ts(at), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RenewInboundLeases implements store.InboundStore. Like RenewLeases, it
// skips rows locked by another transaction on PostgreSQL rather than wait
// for them (and risk a deadlock with a group commit).
func (r *Regional) RenewInboundLeases(ctx context.Context, owner string, until time.Time) error {
	query := `UPDATE inbound_jobs SET lease_until = ? WHERE lease_owner = ? AND lease_until > 0`
	if r.dialect.postgres() {
		query = `UPDATE inbound_jobs SET lease_until = ? WHERE id IN (SELECT id FROM inbound_jobs
			WHERE lease_owner = ? AND lease_until > 0 FOR UPDATE SKIP LOCKED)`
	}
	_, err := r.exec(ctx, query, ts(until), owner)
	return err
}

// NextInboundDue implements store.InboundStore.
func (r *Regional) NextInboundDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := r.queryRow(ctx, `SELECT MIN(next_attempt_at) FROM inbound_jobs WHERE lease_until = 0`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return fromTS(next.Int64), nil
}
