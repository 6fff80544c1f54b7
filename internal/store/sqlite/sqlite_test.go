package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store/sqlite"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Stores(freshDB))
}

func TestNodes(t *testing.T) {
	t.Parallel()
	storetest.RunNodes(t, freshDB)
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	storetest.RunMigrations(t, freshDB)
}

// freshDB returns an Opener of a new file in t's temporary folder.
func freshDB(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "store.db")
	return func(ctx context.Context) (*sqlstore.DB, error) { return sqlite.Open(ctx, path) }
}

// TestDurability checks the settings that make a commit durable and the
// files private: WAL with synchronous=FULL on the writer connection, and
// mode 0600 for the database and its WAL files.
func TestDurability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	g, err := sqlite.OpenGlobal(ctx, filepath.Join(dir, "global.db"))
	mustOK(t, err, "OpenGlobal")
	defer g.Close()
	r, err := sqlite.OpenRegional(ctx, filepath.Join(dir, "region-us.db"))
	mustOK(t, err, "OpenRegional")
	defer r.Close()

	for name, db := range map[string]*sqlstore.DB{"global": g.DB, "regional": r.DB} {
		w := db.Writer()
		for _, p := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"synchronous", "2"}, // FULL
			{"foreign_keys", "1"},
			{"busy_timeout", "10000"},
		} {
			var got string
			mustOK(t, w.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got), name+" PRAGMA "+p.pragma)
			if got != p.want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, p.pragma, got, p.want)
			}
		}
	}

	files, err := filepath.Glob(filepath.Join(dir, "*"))
	mustOK(t, err, "list files")
	for _, want := range []string{"global.db", "global.db-wal", "region-us.db", "region-us.db-wal"} {
		if !slices.Contains(files, filepath.Join(dir, want)) {
			t.Errorf("%s was not created; files: %v", want, files)
		}
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		mustOK(t, err, "stat")
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(f), mode)
		}
	}
}

// TestWALBounded: with readers always reading, PASSIVE checkpoints alone
// never let the WAL start again and it grows by all that is written; the
// checkpointer's RESTART past the bound (256 MB; 8 MB here) keeps it (and
// the WAL index every connection maps) bounded.
func TestWALBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	const bound = 8 << 20
	db, err := sqlite.OpenWALBound(ctx, path, bound)
	mustOK(t, err, "Open")
	defer db.Close()
	_, err = db.Writer().ExecContext(ctx, `CREATE TABLE scratch (b BLOB)`)
	mustOK(t, err, "create table")
	// Readers of its own, as the store's reader pool and other processes
	// are: any connection reading from the WAL holds it.
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	mustOK(t, err, "open readers")
	defer r.Close()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := 0; i < 3; i++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int
				_ = r.QueryRowContext(ctx, `SELECT count(*) FROM scratch`).Scan(&n)
				time.Sleep(time.Millisecond) // a node's readers: claims, pages, one after another
			}
		}()
	}
	blob := make([]byte, 1<<20)
	const writes = 400 // MB
	biggest, last, restarts := int64(0), int64(0), 0
	for i := 0; i < writes; i++ {
		_, err := db.Writer().ExecContext(ctx, `INSERT INTO scratch (b) VALUES (?)`, blob)
		mustOK(t, err, "insert")
		if st, err := os.Stat(path + "-wal"); err == nil {
			biggest = max(biggest, st.Size())
			if st.Size() < last {
				restarts++ // truncated back to the bound after a restart
			}
			last = st.Size()
		}
	}
	close(stop)
	readers.Wait()
	// The WAL must have started again several times: had it not, it
	// would hold all 400 MB written. Between two checkpoints (every
	// 250 ms) the writes pass the bound by what they write meanwhile, and
	// with three readers reading all the time a RESTART can wait in
	// vain (at most 100 ms) and leave it to the next checkpoint.
	if restarts < 2 || biggest >= writes<<20/2 {
		t.Fatalf("the WAL grew to %d MB and was truncated %d times, with %d MB written and a bound of %d MB",
			biggest>>20, restarts, writes, bound>>20)
	}
	st, err := os.Stat(path + "-wal")
	mustOK(t, err, "stat WAL")
	t.Logf("WAL at most %d MB during %d MB of writes, truncated %d times, %d MB at the end", biggest>>20, writes, restarts, st.Size()>>20)
}
