package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Group commit. Every write transaction goes through a committer goroutine
// that takes the waiting writes, runs them in one transaction and commits
// once: with synchronous=FULL (SQLite) or synchronous_commit=on
// (PostgreSQL) that is one fsync for the whole group, and no caller returns
// before its write is durable. If one write of a group fails, the group is
// rolled back and each write is retried alone, so one caller's error (a
// uniqueness clash, say) never fails its neighbours.
//
// Failure rules: a write function that panics fails with an error (and the
// panic is counted, OnPanic), like any failing write, and the committer
// keeps running; a panic outside the write functions fails the whole
// group. Every statement of a group's transaction runs under the group's
// deadline (defaultWriteDeadline from the group's start), whatever context
// the write passed, so a hung statement fails its group instead of
// stalling every write of the node.

// defaultWriteDeadline bounds one group's transaction, retries alone
// included (each alone gets a fresh one).
const defaultWriteDeadline = time.Minute

// maxGroup bounds how many writes share a transaction.
const maxGroup = 256

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

type committer struct {
	db   *DB
	n    int // committer goroutines
	reqs chan *writeReq
	stop chan struct{}
	wg   sync.WaitGroup

	// mu makes hand-overs and close exclude each other, so that no write
	// enters reqs once the committers may have drained it for the last
	// time: it would wait forever.
	mu     sync.RWMutex
	closed bool
}

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store: closed")

func startCommitters(db *DB, n int) *committer {
	c := &committer{db: db, n: n, reqs: make(chan *writeReq, maxGroup), stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		c.wg.Add(1)
		go c.loop()
	}
	return c
}

func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.stop)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// write runs fn in a transaction shared with other writers and returns
// once that transaction committed or fn's own error.
func (c *committer) write(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := c.handOver(ctx, req); err != nil {
		return err
	}
	// Once handed over, wait for the verdict even if ctx ends: the write
	// may be committing, and the caller must not think it was not.
	return <-req.done
}

// handOver queues req for the committers, unless the store is closed or
// ctx ends first. The committers keep taking writes while it waits for
// room, since close cannot stop them before it returns.
func (c *committer) handOver(ctx context.Context, req *writeReq) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) loop() {
	defer c.wg.Done()
	for {
		var first *writeReq
		select {
		case first = <-c.reqs:
		case <-c.stop:
			c.drain()
			return
		}
		group := []*writeReq{first}
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-c.reqs:
				group = append(group, r)
			default:
				break fill
			}
		}
		c.runSafely(group)
		c.db.prepareQueued()
	}
}

// runSafely runs a group; a panic outside the write functions (which tx
// recovers one by one) fails the writes of the group not yet answered.
func (c *committer) runSafely(group []*writeReq) {
	defer func() {
		if v := recover(); v != nil {
			c.db.panicked("store group commit", v)
			err := fmt.Errorf("store: group commit panicked: %v", v)
			for _, r := range group {
				select {
				case r.done <- err: // unanswered (an answered one's buffer is full or read)
				default:
				}
			}
		}
	}()
	c.run(group)
}

// call runs one write function, turning a panic into its error.
func (c *committer) call(r *writeReq, tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.db.panicked("store write", v)
			err = fmt.Errorf("store: write panicked: %v", v)
		}
	}()
	return r.fn(tx)
}

// drain fails writes that arrived while stopping.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.reqs:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

func (c *committer) run(group []*writeReq) {
	live := group[:0:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	failed, err := c.tx(live)
	if err == nil {
		for _, r := range live {
			r.done <- nil
		}
		return
	}
	if failed == nil && !c.db.transient(err) {
		// The commit itself failed: all share the verdict.
		for _, r := range live {
			r.done <- err
		}
		return
	}
	// One write failed, or the group met a transient conflict (a
	// PostgreSQL deadlock with another node's transaction): retry each
	// alone, so only a write that fails by itself sees its error.
	for _, r := range live {
		r.done <- c.alone(r)
	}
}

// alone runs one write in its own transaction, retrying transient
// failures a few times.
func (c *committer) alone(r *writeReq) error {
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		if _, err = c.tx([]*writeReq{r}); err == nil || !c.db.transient(err) {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
	return err
}

// tx runs reqs in one transaction. It returns the request whose fn failed
// (nil when the failure was begin or commit).
//
// On SQLite the transaction begins at once (BEGIN IMMEDIATE takes the
// write lock). On PostgreSQL it begins at the group's first statement: a
// group of plain accepts runs none before flush, whose suppression query
// and one insert statement (insertAll) then need no transaction around
// them — two round trips instead of four.
func (c *committer) tx(reqs []*writeReq) (*writeReq, error) {
	// Cancelled only once the transaction is committed or rolled back:
	// database/sql rolls back a transaction whose context ends.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.db.writeDeadline.Load()))
	defer cancel()
	tx := &Tx{db: c.db, ctx: ctx}
	if !c.db.dialect.postgres() {
		if _, err := tx.begun(ctx); err != nil {
			return nil, err
		}
	}
	for _, r := range reqs {
		if err := c.call(r, tx); err != nil {
			tx.rollback()
			return r, err
		}
	}
	if err := tx.flush(ctx); err != nil {
		tx.rollback()
		// Which write's rows failed is unknown: blame the group's first so
		// that, in a group, each is retried alone.
		return reqs[0], err
	}
	if tx.tx != nil {
		if err := tx.tx.Commit(); err != nil {
			return nil, fmt.Errorf("commit: %w", c.db.classify(err))
		}
	}
	tx.committed()
	if tx.invalidates {
		c.db.cache.committed()
	}
	return nil, nil
}

// insertRows inserts rows into table with multi-row VALUES lists, chunked
// below both dialects' parameter limits.
func (t *Tx) insertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	return t.upsertRows(ctx, table, cols, rows, "")
}

// upsertRows is insertRows with a clause after the VALUES lists (ON
// CONFLICT …). PostgreSQL refuses a statement that updates one row twice,
// so rows must not repeat a conflict key.
func (t *Tx) upsertRows(ctx context.Context, table string, cols []string, rows [][]any, onConflict string) error {
	ctx = t.bound(ctx)
	if len(rows) == 0 {
		return nil
	}
	if t.deferUpserts {
		t.upserts = append(t.upserts, pendingUpsert{table, cols, rows, onConflict})
		return nil
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	if !t.db.dialect.postgres() {
		// SQLite runs in this process: one prepared single-row statement
		// per row costs no round trip, and saves what a multi-row
		// statement of a new length costs every time — parsing it, and
		// copying each page it changes into a statement journal (a
		// statement that writes many rows and may fail midway needs one).
		// Together that was a quarter of the committer's CPU.
		query := head + tuple + onConflict
		tx, err := t.begun(ctx)
		if err != nil {
			return err
		}
		st := t.db.writerStmt(query)
		for _, r := range rows {
			var err error
			if st != nil {
				_, err = tx.StmtContext(ctx, st).ExecContext(ctx, r...)
			} else {
				_, err = tx.ExecContext(ctx, query, r...)
			}
			if err != nil {
				return t.db.classify(err)
			}
		}
		return nil
	}
	per := max(1, 30000/len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, r...)
		}
		b.WriteString(onConflict)
		if _, err := t.rawExec(ctx, t.db.rebind(b.String()), args...); err != nil {
			return t.db.classify(err)
		}
	}
	return nil
}

// insertAll inserts every table's queued rows, and makes the upserts that
// upsertRows deferred, with one statement on PostgreSQL: an INSERT …
// SELECT FROM unnest(…) per table, each column's values bound as one
// array, joined as data-modifying WITH queries. A round trip costs more
// than the statement on a busy node (each wakes the server), and the text
// depends only on the tables, so it is prepared once whatever the group's
// size.
func (t *Tx) insertAll(ctx context.Context) error {
	ctx = t.bound(ctx)
	var parts []string
	var args []any
	all := make([]pendingUpsert, 0, len(t.tables)+len(t.upserts))
	for _, table := range t.tables {
		all = append(all, pendingUpsert{table: table, cols: t.pending[table].cols, rows: t.pending[table].rows})
	}
	for _, p := range append(all, t.upserts...) {
		table := p.table
		types, err := t.columnTypes(ctx, table)
		if err != nil {
			return err
		}
		var sel strings.Builder
		for c, col := range p.cols {
			typ, ok := types[col]
			if !ok {
				return fmt.Errorf("insert into %s: no column %s", table, col)
			}
			values := make([]any, len(p.rows))
			for r, row := range p.rows {
				values[r] = row[c]
			}
			args = append(args, values)
			if c > 0 {
				sel.WriteString(", ")
			}
			fmt.Fprintf(&sel, "$%d::%s[]", len(args), typ)
		}
		parts = append(parts, "INSERT INTO "+table+" ("+strings.Join(p.cols, ", ")+") SELECT * FROM unnest("+sel.String()+")"+p.onConflict)
	}
	if len(parts) == 0 {
		return nil
	}
	var q strings.Builder
	for i, part := range parts[:len(parts)-1] {
		if i == 0 {
			q.WriteString("WITH ")
		} else {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "w%d AS (%s)", i, part)
	}
	if len(parts) > 1 {
		q.WriteByte(' ')
	}
	q.WriteString(parts[len(parts)-1])
	// Not begun: no write of the group ran a statement, and this one
	// statement is the whole transaction (committed, durably, when it
	// returns), saving the BEGIN and COMMIT round trips.
	_, err := t.conn().ExecContext(ctx, q.String(), args...)
	return t.db.classify(err)
}

// columnTypes returns table's column types on PostgreSQL, read once.
func (t *Tx) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	ctx = t.bound(ctx)
	if v, ok := t.db.colTypes.Load(table); ok {
		return v.(map[string]string), nil
	}
	const query = `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`
	rows, err := t.conn().QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	t.db.colTypes.Store(table, types)
	return types, nil
}
