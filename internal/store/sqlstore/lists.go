package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

var _ store.ListStore = (*Regional)(nil)

// listSelect reads a list with its member count.
const listSelect = `SELECT l.address, l.name, l.description, l.access_level, l.reply_preference, l.created_at,
	(SELECT COUNT(*) FROM list_members m WHERE m.list = l.address), l.account_id FROM mailing_lists l`

const memberCols = `list, address, name, vars, subscribed`

func scanList(s scanner) (store.MailingList, error) {
	var l store.MailingList
	var created int64
	err := s.Scan(&l.Address, &l.Name, &l.Description, &l.AccessLevel, &l.ReplyPreference, &created, &l.MembersCount, &l.AccountID)
	l.CreatedAt = fromTS(created)
	return l, err
}

func scanMember(s scanner) (store.Member, error) {
	var m store.Member
	var vars string
	if err := s.Scan(&m.List, &m.Address, &m.Name, &vars, &m.Subscribed); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(vars), &m.Vars); err != nil {
		return m, fmt.Errorf("member %s of %s: vars: %w", m.Address, m.List, err)
	}
	if m.Vars == nil {
		m.Vars = map[string]any{}
	}
	return m, nil
}

func varsJSON(v map[string]any) (string, error) {
	if len(v) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// CreateList implements store.ListStore.
func (r *Regional) CreateList(ctx context.Context, l store.MailingList) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO mailing_lists (address, name, description, access_level, reply_preference, created_at, account_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, l.Address, l.Name, l.Description, l.AccessLevel, l.ReplyPreference, ts(l.CreatedAt), l.AccountID); err != nil {
			return err
		}
		return tx.invalidate(ctx)
	})
}

// List implements store.ListStore.
func (r *Regional) List(ctx context.Context, address string) (store.MailingList, error) {
	l, err := scanList(r.queryRow(ctx, listSelect+` WHERE l.address = ?`, address))
	return l, notFound(err)
}

// ListsByAddress implements store.ListStore.
func (r *Regional) ListsByAddress(ctx context.Context, addresses []string) ([]store.MailingList, error) {
	if len(addresses) == 0 {
		return nil, nil
	}
	var out []store.MailingList
	if all, ok := r.allLists(ctx); ok {
		for i, a := range addresses {
			if l, ok := all[a]; ok && !slices.Contains(addresses[:i], a) {
				out = append(out, l)
			}
		}
		return out, nil
	}
	for start := 0; start < len(addresses); start += 500 {
		chunk := addresses[start:min(len(addresses), start+500)]
		args := make([]any, len(chunk))
		for i, a := range chunk {
			args[i] = a
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		query := `SELECT address, name, description, access_level, reply_preference,
			created_at, 0, account_id FROM mailing_lists WHERE address IN (` + in + `)`
		var rows *sql.Rows
		var err error
		if len(chunk) <= 8 {
			rows, err = r.query(ctx, query, args...) // every send asks: keep the few common shapes prepared
		} else {
			rows, err = r.r.QueryContext(ctx, r.rebind(query), args...)
		}
		ls, err := scanRows(rows, err, scanList)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

// allLists returns every list by address from the cache, filling it when
// stale. It reports false when the cache is off or there are more than
// maxCachedLists lists: then the database answers.
func (r *Regional) allLists(ctx context.Context) (map[string]store.MailingList, bool) {
	gen, on := r.cache.current()
	if !on {
		return nil, false
	}
	r.cache.mu.Lock()
	e := r.cache.lists
	r.cache.mu.Unlock()
	if e.ok && e.gen == gen {
		return e.v, e.v != nil
	}
	rows, err := r.query(ctx, `SELECT address, name, description, access_level, reply_preference, created_at, 0, account_id
		FROM mailing_lists LIMIT ?`, maxCachedLists+1)
	ls, err := scanRows(rows, err, scanList)
	if err != nil {
		return nil, false
	}
	var all map[string]store.MailingList
	if len(ls) <= maxCachedLists {
		all = make(map[string]store.MailingList, len(ls))
		for _, l := range ls {
			all[l.Address] = l
		}
	}
	r.cache.mu.Lock()
	r.cache.lists = cached[map[string]store.MailingList]{gen: gen, v: all, ok: true}
	r.cache.mu.Unlock()
	return all, all != nil
}

// ListsPage implements store.ListStore.
func (r *Regional) ListsPage(ctx context.Context, q store.PivotQuery) ([]store.MailingList, error) {
	query, args := pivotPage(listSelect, "", "l.address", nil, q)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanList)
	return ascending(out, q), err
}

// ListsOffset implements store.ListStore.
func (r *Regional) ListsOffset(ctx context.Context, skip, limit int) ([]store.MailingList, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM mailing_lists`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, listSelect+` ORDER BY l.address LIMIT ? OFFSET ?`, limit, skip)
	out, err := scanRows(rows, err, scanList)
	return out, total, err
}

// AccountListsPage implements store.ListStore.
func (r *Regional) AccountListsPage(ctx context.Context, account string, q store.PivotQuery) ([]store.MailingList, error) {
	query, args := pivotPage(listSelect, "l.account_id = ?", "l.address", []any{account}, q)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanList)
	return ascending(out, q), err
}

// AccountListsOffset implements store.ListStore.
func (r *Regional) AccountListsOffset(ctx context.Context, account string, skip, limit int) ([]store.MailingList, int, error) {
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM mailing_lists WHERE account_id = ?`, account).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, listSelect+` WHERE l.account_id = ? ORDER BY l.address LIMIT ? OFFSET ?`, account, limit, skip)
	out, err := scanRows(rows, err, scanList)
	return out, total, err
}

// UpdateList implements store.ListStore.
func (r *Regional) UpdateList(ctx context.Context, address string, l store.MailingList) error {
	return r.inTx(ctx, func(tx *Tx) error {
		err := affected(tx.exec(ctx, `UPDATE mailing_lists SET address = ?, name = ?, description = ?, access_level = ?,
			reply_preference = ? WHERE address = ?`, l.Address, l.Name, l.Description, l.AccessLevel, l.ReplyPreference, address))
		if err == nil {
			err = tx.invalidate(ctx)
		}
		if err != nil || l.Address == address {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE list_members SET list = ? WHERE list = ?`, l.Address, address)
		return err
	})
}

// DeleteList implements store.ListStore.
func (r *Regional) DeleteList(ctx context.Context, address string) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if err := affected(tx.exec(ctx, `DELETE FROM mailing_lists WHERE address = ?`, address)); err != nil {
			return err
		}
		if err := tx.invalidate(ctx); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM list_members WHERE list = ?`, address)
		return err
	})
}

func listExists(ctx context.Context, tx *Tx, list string) error {
	n, err := count(ctx, tx, `SELECT COUNT(*) FROM mailing_lists WHERE address = ?`, list)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}

// memberInsert writes one member; upsert replaces an existing one, else
// an existing one is left alone (ON CONFLICT DO NOTHING) and n is 0.
func memberInsert(ctx context.Context, tx *Tx, m store.Member, upsert bool) (int64, error) {
	vars, err := varsJSON(m.Vars)
	if err != nil {
		return 0, err
	}
	conflict := ` ON CONFLICT (list, address) DO NOTHING`
	if upsert {
		conflict = ` ON CONFLICT (list, address) DO UPDATE SET name = excluded.name, vars = excluded.vars,
			subscribed = excluded.subscribed`
	}
	res, err := tx.exec(ctx, `INSERT INTO list_members (`+memberCols+`) VALUES (?, ?, ?, ?, ?)`+conflict,
		m.List, m.Address, m.Name, vars, m.Subscribed)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AddMember implements store.ListStore.
func (r *Regional) AddMember(ctx context.Context, m store.Member, upsert bool) error {
	return r.inTx(ctx, func(tx *Tx) error {
		if err := listExists(ctx, tx, m.List); err != nil {
			return err
		}
		n, err := memberInsert(ctx, tx, m, upsert)
		if err == nil && n == 0 {
			err = store.ErrConflict
		}
		return err
	})
}

// AddMembers implements store.ListStore.
func (r *Regional) AddMembers(ctx context.Context, list string, ms []store.Member, upsert bool) (int, error) {
	var written int
	err := r.inTx(ctx, func(tx *Tx) error {
		written = 0
		if err := listExists(ctx, tx, list); err != nil {
			return err
		}
		for _, m := range ms {
			m.List = list
			n, err := memberInsert(ctx, tx, m, upsert)
			if err != nil {
				return err
			}
			written += int(n)
		}
		return nil
	})
	return written, err
}

// Member implements store.ListStore.
func (r *Regional) Member(ctx context.Context, list, address string) (store.Member, error) {
	m, err := scanMember(r.queryRow(ctx, `SELECT `+memberCols+` FROM list_members WHERE list = ? AND address = ?`, list, address))
	return m, notFound(err)
}

func memberWhere(list string, f store.MemberFilter) (string, []any) {
	where, args := "list = ?", []any{list}
	if f.Subscribed != nil {
		where += " AND subscribed = ?"
		args = append(args, *f.Subscribed)
	}
	return where, args
}

// MembersPage implements store.ListStore.
func (r *Regional) MembersPage(ctx context.Context, list string, f store.MemberFilter, q store.PivotQuery) ([]store.Member, error) {
	where, args := memberWhere(list, f)
	query, args := pivotPage(`SELECT `+memberCols+` FROM list_members`, where, "address", args, q)
	rows, err := r.query(ctx, query, args...)
	out, err := scanRows(rows, err, scanMember)
	return ascending(out, q), err
}

// MembersOffset implements store.ListStore.
func (r *Regional) MembersOffset(ctx context.Context, list string, f store.MemberFilter, skip, limit int) ([]store.Member, int, error) {
	where, args := memberWhere(list, f)
	var total int
	if err := r.queryRow(ctx, `SELECT COUNT(*) FROM list_members WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.query(ctx, `SELECT `+memberCols+` FROM list_members WHERE `+where+` ORDER BY address LIMIT ? OFFSET ?`,
		append(args, limit, skip)...)
	out, err := scanRows(rows, err, scanMember)
	return out, total, err
}

// UpdateMember implements store.ListStore.
func (r *Regional) UpdateMember(ctx context.Context, address string, m store.Member) error {
	vars, err := varsJSON(m.Vars)
	if err != nil {
		return err
	}
	return affected(r.exec(ctx, `UPDATE list_members SET address = ?, name = ?, vars = ?, subscribed = ?
		WHERE list = ? AND address = ?`, m.Address, m.Name, vars, m.Subscribed, m.List, address))
}

// DeleteMember implements store.ListStore.
func (r *Regional) DeleteMember(ctx context.Context, list, address string) error {
	return affected(r.exec(ctx, `DELETE FROM list_members WHERE list = ? AND address = ?`, list, address))
}

// SubscribedMembers implements store.ListStore.
func (r *Regional) SubscribedMembers(ctx context.Context, list, after string, limit int) ([]store.Member, error) {
	rows, err := r.query(ctx, `SELECT `+memberCols+` FROM list_members WHERE list = ? AND subscribed = ? AND address > ?
		ORDER BY address LIMIT ?`, list, true, after, limit)
	return scanRows(rows, err, scanMember)
}
