package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// suppressionCols are the columns of suppressions, in scan order.
var suppressionCols = []string{"domain", "list", "address", "code", "error", "tags", "reason", "type", "hits", "created_at"}

var suppressionSelect = strings.Join(suppressionCols, ", ")

// suppressionUpsert replaces a record, except that complaints add up
// (tags were merged before, see mergeStoredTags).
const suppressionUpsert = ` ON CONFLICT (domain, list, address) DO UPDATE SET code = excluded.code,
	error = excluded.error, tags = excluded.tags, reason = excluded.reason, type = excluded.type,
	hits = suppressions.hits + excluded.hits, created_at = excluded.created_at`

// inChunk bounds the values of one IN list.
const inChunk = 400

func suppressionRow(s store.Suppression) []any {
	tags := "[]"
	if len(s.Tags) > 0 {
		b, _ := json.Marshal(s.Tags)
		tags = string(b)
	}
	return []any{s.Domain, s.List, s.Address, s.Code, s.Error, tags, s.Reason, s.Type, s.Count, ts(s.CreatedAt)}
}

func scanSuppression(sc scanner) (store.Suppression, error) {
	var s store.Suppression
	var tags string
	var created int64
	if err := sc.Scan(&s.Domain, &s.List, &s.Address, &s.Code, &s.Error, &tags, &s.Reason, &s.Type, &s.Count, &created); err != nil {
		return s, err
	}
	s.CreatedAt = fromTS(created)
	if tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &s.Tags); err != nil {
			return s, err
		}
	}
	return s, nil
}

// PutSuppressions implements store.SuppressionStore.
func (r *Regional) PutSuppressions(ctx context.Context, recs []store.Suppression) error {
	return r.inTx(ctx, func(tx *Tx) error { return putSuppressions(ctx, tx, recs) })
}

// Unsubscribe implements store.SuppressionStore.
func (r *Regional) Unsubscribe(ctx context.Context, rec store.Suppression, ev store.Event) (bool, error) {
	var added bool
	err := r.inTx(ctx, func(tx *Tx) error {
		added = false // a group that failed runs each write again alone
		old, err := scanSuppression(tx.queryRow(ctx, `SELECT `+suppressionSelect+` FROM suppressions
			WHERE domain = ? AND list = ? AND address = ?`, rec.Domain, store.Unsubscribes, rec.Address))
		switch err = notFound(err); {
		case err == nil && coversTags(old.Tags, rec.Tags):
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := putSuppressions(ctx, tx, []store.Suppression{rec}); err != nil {
			return err
		}
		tx.addEvent(ev)
		added = true
		return nil
	})
	return added, err
}

// coversTags reports whether an unsubscribe from have includes every tag
// of want.
func coversTags(have, want []string) bool {
	if slices.Contains(have, "*") {
		return true
	}
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

type suppressionKey struct{ domain, list, address string }

func keyOf(s store.Suppression) suppressionKey { return suppressionKey{s.Domain, s.List, s.Address} }

// putSuppressions upserts recs: duplicates within recs are merged first
// (PostgreSQL refuses to update a row twice in one statement) and rows go
// in key order, so concurrent writers lock them in the same order.
func putSuppressions(ctx context.Context, tx *Tx, recs []store.Suppression) error {
	merged := map[suppressionKey]store.Suppression{}
	for _, s := range recs {
		if old, ok := merged[keyOf(s)]; ok {
			s.Tags = mergeTags(old.Tags, s.Tags)
			s.Count += old.Count
		}
		merged[keyOf(s)] = s
	}
	out := make([]store.Suppression, 0, len(merged))
	for _, s := range merged {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b store.Suppression) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.List, b.List), cmp.Compare(a.Address, b.Address))
	})
	if err := mergeStoredTags(ctx, tx, out); err != nil {
		return err
	}
	rows := make([][]any, len(out))
	for i, s := range out {
		rows[i] = suppressionRow(s)
	}
	return tx.upsertRows(ctx, "suppressions", suppressionCols, rows, suppressionUpsert)
}

// mergeTags returns a's tags followed by those of b it lacks.
func mergeTags(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// mergeStoredTags adds the stored tags of unsubscribes in recs to theirs,
// so that re-adding an address with a new tag keeps the old ones.
func mergeStoredTags(ctx context.Context, tx *Tx, recs []store.Suppression) error {
	at := map[suppressionKey]int{}
	byDomain := map[string][]string{}
	for i, s := range recs {
		if s.List == store.Unsubscribes {
			at[keyOf(s)] = i
			byDomain[s.Domain] = append(byDomain[s.Domain], s.Address)
		}
	}
	for domain, addrs := range byDomain {
		stored, err := matchSuppressions(ctx, tx.db, domain, addrs, func(query string, args ...any) (*sql.Rows, error) {
			return tx.query(ctx, query, args...)
		})
		if err != nil {
			return err
		}
		for _, old := range stored {
			if i, ok := at[keyOf(old)]; ok {
				recs[i].Tags = mergeTags(old.Tags, recs[i].Tags)
			}
		}
	}
	return nil
}

// selectSuppressions reads records inside tx.
func (t *Tx) selectSuppressions(ctx context.Context, where string, args ...any) ([]store.Suppression, error) {
	rows, err := t.query(ctx, `SELECT `+suppressionSelect+` FROM suppressions WHERE `+where, args...)
	return scanRows(rows, err, scanSuppression)
}

// query runs a query inside tx, with a prepared statement once it was
// seen (the accept path looks suppressions up for every submission).
func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.bound(ctx)
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	if st := t.db.writerStmt(query); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, t.db.q(query), args...)
}

// read is query for a read that needs no isolation from the group's
// writes: while the transaction has not begun (PostgreSQL), it runs on its
// own and does not begin it.
func (t *Tx) read(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.bound(ctx)
	if t.tx != nil || !t.db.dialect.postgres() {
		return t.query(ctx, query, args...)
	}
	if st := t.db.writerStmt(query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.conn().QueryContext(ctx, t.db.q(query), args...)
}

func forChunks(vals []string, fn func([]string) error) error {
	for start := 0; start < len(vals); start += inChunk {
		if err := fn(vals[start:min(len(vals), start+inChunk)]); err != nil {
			return err
		}
	}
	return nil
}

// marks returns n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(vals []string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// Suppression implements store.SuppressionStore.
func (r *Regional) Suppression(ctx context.Context, domain, list, address string) (store.Suppression, error) {
	s, err := scanSuppression(r.queryRow(ctx, `SELECT `+suppressionSelect+` FROM suppressions
		WHERE domain = ? AND list = ? AND address = ?`, domain, list, address))
	return s, notFound(err)
}

// Suppressions implements store.SuppressionStore.
func (r *Regional) Suppressions(ctx context.Context, q store.SuppressionQuery) ([]store.Suppression, error) {
	p := page{where: `domain = ? AND list = ?`, args: []any{q.Domain, q.List}}
	p.prefix("address", q.Term)
	query, args := p.query(`SELECT `+suppressionSelect+` FROM suppressions`, "address", q.After, q.Before, q.Last, q.Limit)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanSuppression)
	if q.Before != "" || q.Last {
		slices.Reverse(out)
	}
	return out, err
}

// page builds a keyset page query over a text column.
type page struct {
	where string
	args  []any
}

// prefix keeps the values of col starting with p, as a range the index
// serves when p ends in ASCII, a substring test otherwise.
func (p *page) prefix(col, pre string) {
	if pre == "" {
		return
	}
	if last := pre[len(pre)-1]; last < 0x7f {
		p.where += " AND " + col + " >= ? AND " + col + " < ?"
		p.args = append(p.args, pre, pre[:len(pre)-1]+string(last+1))
		return
	}
	p.where += " AND substr(" + col + ", 1, ?) = ?"
	p.args = append(p.args, len([]rune(pre)), pre)
}

// query returns the page after the pivot after, before the pivot before,
// the last page, or the first.
func (p *page) query(sel, col, after, before string, last bool, limit int) (string, []any) {
	where, args, order := p.where, p.args, "ASC"
	switch {
	case before != "":
		where += " AND " + col + " < ?"
		args, order = append(args, before), "DESC"
	case last:
		order = "DESC"
	case after != "":
		where += " AND " + col + " > ?"
		args = append(args, after)
	}
	return sel + ` WHERE ` + where + ` ORDER BY ` + col + ` ` + order + ` LIMIT ?`, append(args, limit)
}

// DeleteSuppression implements store.SuppressionStore.
func (r *Regional) DeleteSuppression(ctx context.Context, domain, list, address string) error {
	return affected(r.exec(ctx, `DELETE FROM suppressions WHERE domain = ? AND list = ? AND address = ?`, domain, list, address))
}

// RemoveUnsubscribeTag implements store.SuppressionStore.
func (r *Regional) RemoveUnsubscribeTag(ctx context.Context, domain, address, tag string) error {
	return r.inTx(ctx, func(tx *Tx) error {
		recs, err := tx.selectSuppressions(ctx, `domain = ? AND list = ? AND address = ?`, domain, store.Unsubscribes, address)
		if err != nil {
			return err
		}
		if len(recs) == 0 || !slices.Contains(recs[0].Tags, tag) {
			return store.ErrNotFound
		}
		s := recs[0]
		s.Tags = slices.DeleteFunc(s.Tags, func(t string) bool { return t == tag })
		if len(s.Tags) == 0 {
			_, err = tx.exec(ctx, `DELETE FROM suppressions WHERE domain = ? AND list = ? AND address = ?`, domain, s.List, address)
			return err
		}
		tags, _ := json.Marshal(s.Tags)
		_, err = tx.exec(ctx, `UPDATE suppressions SET tags = ? WHERE domain = ? AND list = ? AND address = ?`,
			string(tags), domain, s.List, address)
		return err
	})
}

// ClearSuppressions implements store.SuppressionStore.
func (r *Regional) ClearSuppressions(ctx context.Context, domain, list string) error {
	_, err := r.exec(ctx, `DELETE FROM suppressions WHERE domain = ? AND list = ?`, domain, list)
	return err
}

// MatchSuppressions implements store.SuppressionStore.
func (r *Regional) MatchSuppressions(ctx context.Context, domain string, addrs []string) ([]store.Suppression, error) {
	return matchSuppressions(ctx, r.DB, domain, addrs, func(query string, args ...any) (*sql.Rows, error) {
		return r.query(ctx, query, args...)
	})
}

// matchSuppressions looks addrs and their domains up in every list, one
// index probe per key, through run (in a transaction or not). The query
// leaves the planner no choice, since neither dialect has statistics to
// go by on a young table: SQLite is told to use the (domain, address)
// index (it would rather scan the domain's primary-key range, as the
// index lacks the selected columns), and PostgreSQL probes the index once
// per key of an array (before ANALYZE it reads an IN list as a scan of
// the whole domain: a second for 400 keys among a million bounces).
func matchSuppressions(ctx context.Context, db *DB, domain string, addrs []string,
	run func(query string, args ...any) (*sql.Rows, error)) ([]store.Suppression, error) {
	seen := map[string]bool{}
	var keys []string
	for _, a := range addrs {
		d := a
		if at := strings.LastIndexByte(a, '@'); at >= 0 {
			d = a[at+1:]
		}
		for _, k := range []string{a, d} {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var out []store.Suppression
	err := forChunks(keys, func(chunk []string) error {
		var rows *sql.Rows
		var err error
		if db.dialect.postgres() {
			rows, err = run(`SELECT `+prefixed("s.", suppressionCols)+` FROM unnest(CAST(? AS text[])) AS k(address)
				CROSS JOIN LATERAL (SELECT * FROM suppressions WHERE domain = ? AND address = k.address) AS s`, chunk, domain)
		} else {
			rows, err = run(`SELECT `+suppressionSelect+` FROM suppressions INDEXED BY suppressions_address
				WHERE domain = ? AND address IN (`+marks(len(chunk))+`)`, append([]any{domain}, anys(chunk)...)...)
		}
		recs, err := scanRows(rows, err, scanSuppression)
		out = append(out, recs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

func prefixed(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return strings.Join(out, ", ")
}

// screenAll runs the Screens of the accepts of a transaction: one
// suppression query per domain for all of them (a group commit holds many
// accepts, and one query is much cheaper than one each), then each job is
// queued or, when its Screen says so, replaced by its event.
func (t *Tx) screenAll(ctx context.Context) error {
	accepts := t.screens
	t.screens = nil
	byDomain := map[string][]string{}
	var domains []string
	for _, a := range accepts {
		d := a.Message.Domain
		if _, ok := byDomain[d]; !ok {
			domains = append(domains, d)
		}
		for _, j := range a.Jobs {
			byDomain[d] = append(byDomain[d], strings.ToLower(j.Recipient))
		}
	}
	hits := map[string]map[string][]store.Suppression{} // domain → address or domain → records
	for _, d := range domains {
		// The screen reads suppressions committed before it, in the
		// transaction or not (PostgreSQL's read committed): a suppression
		// committing meanwhile is the delivery-time check's to find.
		recs, err := matchSuppressions(ctx, t.db, d, byDomain[d], func(query string, args ...any) (*sql.Rows, error) {
			return t.read(ctx, query, args...)
		})
		if err != nil {
			return err
		}
		m := map[string][]store.Suppression{}
		for _, h := range recs {
			m[h.Address] = append(m[h.Address], h)
		}
		hits[d] = m
	}
	for _, a := range accepts {
		byKey := hits[a.Message.Domain]
		for i, j := range a.Jobs {
			addr := strings.ToLower(j.Recipient)
			mine := byKey[addr]
			if at := strings.LastIndexByte(addr, '@'); at >= 0 {
				mine = append(mine[:len(mine):len(mine)], byKey[addr[at+1:]]...)
			}
			if len(mine) > 0 {
				if e := a.Screen(i, mine); e != nil {
					t.addEvent(*e)
					continue
				}
			}
			t.later("queue", jobCols, jobRow(j))
		}
	}
	return nil
}

// addBounce adds an outcome's bounce unless the address or its domain is
// allowlisted.
func addBounce(ctx context.Context, tx *Tx, b *store.Suppression) error {
	if b == nil {
		return nil
	}
	d := b.Address[strings.LastIndexByte(b.Address, '@')+1:]
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM suppressions WHERE domain = ? AND list = ? AND address IN (?, ?)`,
		b.Domain, store.Allowlist, b.Address, d).Scan(&n); err != nil || n > 0 {
		return err
	}
	return putSuppressions(ctx, tx, []store.Suppression{*b})
}

// importCols are the columns of suppression_imports but data.
const importCols = `id, domain, list, state, rows_done, added, failed, errors, message, lease_until, lease_owner, created_at, updated_at`

func scanImport(sc scanner, withData bool) (store.Import, error) {
	var im store.Import
	var errs string
	var lease, created, updated int64
	dest := []any{&im.ID, &im.Domain, &im.List, &im.State, &im.Rows, &im.Added, &im.Failed, &errs, &im.Message,
		&lease, &im.Owner, &created, &updated}
	if withData {
		dest = append(dest, &im.Data)
	}
	if err := sc.Scan(dest...); err != nil {
		return im, err
	}
	im.LeaseUntil, im.CreatedAt, im.UpdatedAt = fromTS(lease), fromTS(created), fromTS(updated)
	return im, json.Unmarshal([]byte(errs), &im.Errors)
}

func errorsJSON(errs []store.ImportError) string {
	if len(errs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(errs)
	return string(b)
}

// CreateImport implements store.SuppressionStore.
func (r *Regional) CreateImport(ctx context.Context, im store.Import) error {
	if im.Data == nil {
		im.Data = []byte{}
	}
	_, err := r.exec(ctx, `INSERT INTO suppression_imports (`+importCols+`, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		im.ID, im.Domain, im.List, im.State, im.Rows, im.Added, im.Failed, errorsJSON(im.Errors), im.Message,
		ts(im.LeaseUntil), im.Owner, ts(im.CreatedAt), ts(im.UpdatedAt), im.Data)
	return err
}

// Import implements store.SuppressionStore.
func (r *Regional) Import(ctx context.Context, domain, id string) (store.Import, error) {
	im, err := scanImport(r.queryRow(ctx, `SELECT `+importCols+` FROM suppression_imports WHERE domain = ? AND id = ?`, domain, id), false)
	return im, notFound(err)
}

// Imports implements store.SuppressionStore.
func (r *Regional) Imports(ctx context.Context, domain string, limit int) ([]store.Import, error) {
	rows, err := r.query(ctx, `SELECT `+importCols+` FROM suppression_imports WHERE domain = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, domain, limit)
	return scanRows(rows, err, func(s scanner) (store.Import, error) { return scanImport(s, false) })
}

// ClaimImport implements store.SuppressionStore.
func (r *Regional) ClaimImport(ctx context.Context, owner string, now, lease time.Time) (*store.Import, error) {
	lock := ""
	if r.dialect.postgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := r.rebind(`UPDATE suppression_imports SET state = ?, lease_until = ?, lease_owner = ?
		WHERE id IN (SELECT id FROM suppression_imports WHERE state = ? OR (state = ? AND lease_until < ?)
			ORDER BY created_at, id LIMIT 1` + lock + `)
		RETURNING ` + importCols + `, data`)
	var out *store.Import
	err := r.inTx(ctx, func(tx *Tx) error {
		out = nil
		im, err := scanImport(tx.rawQueryRow(ctx, query, store.ImportRunning, ts(lease), owner,
			store.ImportPending, store.ImportRunning, ts(now)), true)
		if err == sql.ErrNoRows {
			return nil
		}
		if err == nil {
			out = &im
		}
		return err
	})
	return out, err
}

// StepImport implements store.SuppressionStore.
func (r *Regional) StepImport(ctx context.Context, s store.ImportStep) error {
	return r.inTx(ctx, func(tx *Tx) error {
		var errs string
		err := tx.queryRow(ctx, `SELECT errors FROM suppression_imports WHERE id = ? AND lease_owner = ? AND state = ?`,
			s.ID, s.Owner, store.ImportRunning).Scan(&errs)
		if err != nil {
			return notFound(err)
		}
		var kept []store.ImportError
		if err := json.Unmarshal([]byte(errs), &kept); err != nil {
			return err
		}
		kept = append(kept, s.Errors[:min(len(s.Errors), store.MaxImportErrors-len(kept))]...)
		state, data := store.ImportRunning, any(nil)
		if s.Finish != "" {
			state, data = s.Finish, []byte{} // a finished import needs its file no more
		}
		if _, err := tx.exec(ctx, `UPDATE suppression_imports SET state = ?, rows_done = ?, added = added + ?,
			failed = failed + ?, errors = ?, message = ?, lease_until = ?, updated_at = ?, data = COALESCE(?, data)
			WHERE id = ?`, state, s.Rows, len(s.Records), s.Failed, errorsJSON(kept), s.Message, ts(s.Lease),
			ts(s.Now), data, s.ID); err != nil {
			return err
		}
		return putSuppressions(ctx, tx, s.Records)
	})
}
