// The tests are an external package because the dialect packages, which
// open databases, import this one.
package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/postgres"
	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/testutil"
)

var ctx = context.Background()

// opener opens one database, again each time it is called.
type opener func() (*sqlstore.DB, error)

// dialects returns an opener of a fresh database of each dialect.
var dialects = []struct {
	name  string
	fresh func(tb testing.TB) opener
}{
	{"sqlite", func(tb testing.TB) opener {
		path := filepath.Join(tb.TempDir(), "store.db")
		return func() (*sqlstore.DB, error) { return sqlite.Open(ctx, path) }
	}},
	{"postgres", func(tb testing.TB) opener {
		url := testutil.PostgresSchema(tb)
		return func() (*sqlstore.DB, error) { return postgres.Open(ctx, url) }
	}},
}

// forDialects runs fn as a parallel subtest of t for each dialect.
func forDialects(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d.fresh(t))
		})
	}
}

// regional opens a regional store, closed when tb ends.
func regional(tb testing.TB, open opener) *sqlstore.Regional {
	tb.Helper()
	db, err := open()
	mustOK(tb, err, "open")
	tb.Cleanup(func() { _ = db.Close() })
	r, err := sqlstore.OpenRegional(ctx, db)
	mustOK(tb, err, "OpenRegional")
	return r
}

// submission is a message of key with one recipient and its accepted
// event.
func submission(key string, body []byte) store.Accept {
	now := time.Now().UTC()
	m := store.Message{Key: key, Domain: "a.com", MessageID: key + "@a.com", Sender: "bounce@a.com",
		Size: len(body), Body: body, Meta: []byte(`{}`), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	return store.Accept{
		Message: m,
		Jobs: []store.Job{{MessageKey: key, Domain: m.Domain, Recipient: "bob@gmail.com", RcptDomain: "gmail.com",
			NextAttemptAt: now, CreatedAt: now}},
		Events: []store.Event{{ID: "ev-" + key, Domain: m.Domain, Type: "accepted", Timestamp: now,
			MessageID: m.MessageID, Recipient: "bob@gmail.com", Data: []byte(`{}`)}},
	}
}

func keyOf(i int) string { return fmt.Sprint("m", i) }

// mustStored fails t unless the message of key is stored with its job and
// event, or, when want is false, that none of it is.
func mustStored(t *testing.T, r store.Regional, key string, want bool) {
	t.Helper()
	_, err := r.Message(ctx, "a.com", key)
	jobs, jerr := r.JobsOfMessage(ctx, "a.com", key+"@a.com")
	evs, eerr := r.Events(ctx, store.EventQuery{Domain: "a.com", MessageID: key + "@a.com", Ascending: true, Limit: 10})
	mustOK(t, errors.Join(jerr, eerr), "read "+key)
	switch {
	case want && (err != nil || len(jobs) != 1 || len(evs) != 1):
		t.Fatalf("%s: Message error %v, %d jobs, %d events; want it stored with one of each", key, err, len(jobs), len(evs))
	case !want && (!errors.Is(err, store.ErrNotFound) || len(jobs) != 0 || len(evs) != 0):
		t.Fatalf("%s: Message error %v, %d jobs, %d events; want none of it stored", key, err, len(jobs), len(evs))
	}
}

// blocked holds every committer of a database inside a write of its own,
// so that writes queue up until it releases them.
type blocked struct {
	gates []chan struct{}
	wg    sync.WaitGroup
}

// block blocks db's committers, one at a time so that each takes exactly
// one blocking write.
func block(t *testing.T, db *sqlstore.DB) *blocked {
	t.Helper()
	b := &blocked{}
	for range db.Committers() {
		gate, entered := make(chan struct{}), make(chan struct{})
		var once sync.Once
		b.gates = append(b.gates, gate)
		b.wg.Go(func() {
			_ = db.InTx(ctx, func(*sqlstore.Tx) error {
				once.Do(func() { close(entered) })
				<-gate
				return nil
			})
		})
		<-entered
	}
	t.Cleanup(b.releaseAll)
	return b
}

// release lets the committer blocked by the i-th write go on.
func (b *blocked) release(i int) {
	select {
	case <-b.gates[i]:
	default:
		close(b.gates[i])
	}
}

func (b *blocked) releaseAll() {
	for i := range b.gates {
		b.release(i)
	}
	b.wg.Wait()
}

// waitFor waits until cond holds, failing t after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, cond, func() string { return "waiting until " + what })
}

// TestManyWriters checks that concurrent writes, grouped into shared
// transactions, all succeed and are all on disk afterwards (read back
// after closing and reopening the database).
func TestManyWriters(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		const n = 200
		r := regional(t, open)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = r.Accept(ctx, submission(keyOf(i), []byte("body")))
			})
		}
		wg.Wait()
		mustOK(t, errors.Join(errs...), "Accept")
		mustOK(t, r.Close(), "Close")

		again := regional(t, open)
		for i := range n {
			mustStored(t, again, keyOf(i), true)
		}
	})
}

// TestFailingNeighbour queues many good writes and one that fails
// (its message key is taken) while the committers are blocked, then lets
// one committer take them all into one transaction: only the bad write may
// fail, and every good one must be stored.
func TestFailingNeighbour(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		const good = 100
		r := regional(t, open)
		_, err := r.Accept(ctx, submission("taken", []byte("first")))
		mustOK(t, err, "Accept")

		b := block(t, r.DB)
		errs := make([]error, good+1)
		var wg sync.WaitGroup
		for i := range good + 1 {
			wg.Go(func() {
				a := submission(keyOf(i), []byte("body"))
				if i == good/2 {
					a = submission("taken", []byte("second"))
					a.Message.MessageID = "dup@a.com"
				}
				_, errs[i] = r.Accept(ctx, a)
			})
		}
		waitFor(t, "every write waits", func() bool { return r.Waiting() == good+1 })
		b.release(0)
		waitFor(t, "one committer took the writes", func() bool { return r.Waiting() == 0 })
		b.releaseAll()
		wg.Wait()

		for i, err := range errs {
			if i == good/2 {
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("the write of a taken key: error %v, want ErrConflict", err)
				}
				continue
			}
			mustOK(t, err, "a neighbour of the failing write")
			mustStored(t, r, keyOf(i), true)
		}
		m, err := r.Message(ctx, "a.com", "taken")
		mustOK(t, err, "Message")
		if string(m.Body) != "first" {
			t.Errorf("the taken message's body is %q, want first", m.Body)
		}
		mustStored(t, r, "dup", false)
	})
}

// TestCancelledWrite checks that a write whose context ends before a
// committer takes it is not applied, and says so.
func TestCancelledWrite(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		r := regional(t, open)
		b := block(t, r.DB)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() {
			_, err := r.Accept(cctx, submission("waiting", nil))
			done <- err
		}()
		waitFor(t, "the write waits", func() bool { return r.Waiting() == 1 })
		cancel()
		b.releaseAll()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Accept cancelled while waiting: error %v, want context.Canceled", err)
		}
		mustStored(t, r, "waiting", false)

		for i := range 50 {
			_, err := r.Accept(cctx, submission(keyOf(i), nil))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Accept with a cancelled context: error %v, want context.Canceled", err)
			}
			mustStored(t, r, keyOf(i), false)
		}
	})
}

// TestWriteAfterClose checks that writes queued when the store closes are
// applied or refused, and that writes after Close are refused, never left
// waiting.
func TestWriteAfterClose(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		const queued, after = 10, 100
		r := regional(t, open)
		b := block(t, r.DB)
		errs := make([]error, queued)
		var wg sync.WaitGroup
		for i := range queued {
			wg.Go(func() { _, errs[i] = r.Accept(ctx, submission(keyOf(i), nil)) })
		}
		waitFor(t, "the writes wait", func() bool { return r.Waiting() == queued })
		closed := make(chan error)
		go func() { closed <- r.Close() }()
		b.releaseAll()
		mustOK(t, <-closed, "Close")
		wg.Wait()

		for i := range after {
			done := make(chan error, 1)
			go func() {
				_, err := r.Accept(ctx, submission(keyOf(queued+i), nil))
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, sqlstore.ErrClosed) {
					t.Fatalf("Accept after Close: error %v, want ErrClosed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Accept %d after Close hangs", i)
			}
		}

		again := regional(t, open)
		for i, err := range errs {
			if err != nil && !errors.Is(err, sqlstore.ErrClosed) {
				t.Errorf("Accept queued at Close: error %v, want nil or ErrClosed", err)
			}
			mustStored(t, again, keyOf(i), err == nil)
		}
	})
}

func mustOK(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// TestPanickingWrite: a write function that panics fails with an error
// and is counted, its neighbours in the same group commit, and the
// committer goes on taking writes.
func TestPanickingWrite(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		const good = 20
		r := regional(t, open)
		var mu sync.Mutex
		var panics []string
		r.OnPanic(func(where string, v any) {
			mu.Lock()
			defer mu.Unlock()
			panics = append(panics, fmt.Sprint(where, ": ", v))
		})
		b := block(t, r.DB)
		errs := make([]error, good)
		var wg sync.WaitGroup
		for i := range good {
			wg.Go(func() { _, errs[i] = r.Accept(ctx, submission(keyOf(i), nil)) })
		}
		var perr error
		wg.Go(func() { perr = r.InTx(ctx, func(*sqlstore.Tx) error { panic("write exploded") }) })
		waitFor(t, "every write waits", func() bool { return r.Waiting() == good+1 })
		b.releaseAll()
		wg.Wait()
		if perr == nil || !strings.Contains(perr.Error(), "write exploded") {
			t.Fatalf("the panicking write: error %v, want one naming the panic", perr)
		}
		for i, err := range errs {
			mustOK(t, err, "a neighbour of the panicking write")
			mustStored(t, r, keyOf(i), true)
		}
		mu.Lock()
		n := len(panics)
		mu.Unlock()
		if n < 1 { // once in the group, once retried alone when they shared one
			t.Fatalf("panics counted: %v", panics)
		}
		_, err := r.Accept(ctx, submission("after", nil))
		mustOK(t, err, "a write after the panic")
		mustStored(t, r, "after", true)
	})
}

// TestWriteDeadline: a statement of a group commit that outlasts the
// group's deadline fails, even under a context without one, and the
// committer goes on taking writes.
func TestWriteDeadline(t *testing.T) {
	forDialects(t, func(t *testing.T, open opener) {
		r := regional(t, open)
		r.SetWriteDeadline(300 * time.Millisecond)
		slow := `SELECT pg_sleep(20)`
		if r.Dialect().Name != "postgres" {
			slow = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) SELECT count(*) FROM c`
		}
		start := time.Now()
		err := r.InTx(context.Background(), func(tx *sqlstore.Tx) error {
			var v any
			return tx.QueryRow(context.Background(), slow).Scan(&v)
		})
		if err == nil || time.Since(start) > 10*time.Second {
			t.Fatalf("a hung statement: error %v after %s, want an error soon after the 300ms deadline", err, time.Since(start))
		}
		t.Logf("hung statement cut after %s: %v", time.Since(start).Round(time.Millisecond), err)
		r.SetWriteDeadline(time.Minute)
		_, err = r.Accept(ctx, submission("after", nil))
		mustOK(t, err, "a write after the deadline")
		mustStored(t, r, "after", true)
	})
}
