package sqlstore

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Nearly every send reads the same rows: the sending domain and whether a
// recipient is a mailing list. The cache keeps them in memory without
// letting a change wait for an expiry:
//
//   - Every entry remembers the generation it was read in, and is good only
//     while the generation has not moved. A write that changes cached rows
//     (a domain updated or deleted, a list created, renamed or deleted)
//     moves it once its transaction committed, before the write returns.
//   - On PostgreSQL, other nodes' writes move it too: those writes NOTIFY
//     CacheChannel in their transaction and every node LISTENs (see
//     WatchChanges); a node hears of a change a moment after its commit
//     (milliseconds), and while it cannot listen it reads through. On
//     SQLite, other processes on the same file (see RunNodes) share a
//     counter in a small memory-mapped file beside it (SharePeers): a
//     committed change adds to it before the write returns, and a lookup
//     that finds it moved moves the generation.
//
// An entry read before a change commits is tagged with the generation from
// before the read, so the change makes it stale however the two interleave.
//
// API keys (the global store's lookup by hash, made for every request) are
// cached the same way and, on top, for at most KeyTTL: a revoked key must
// fail everywhere once the revoke has returned, and a notification is not
// certain to have arrived by then. So a removal of keys on PostgreSQL
// returns only KeyTTL after its commit (see keysRemoved): every entry read
// before the commit has expired by then, on every node.
type cache struct {
	gen  atomic.Uint64
	live atomic.Bool // changes by others are seen; false: read through

	// peers is the counter shared with other processes (SQLite), and
	// peersSeen its value when last looked at.
	peers     PeerCounter
	peersSeen atomic.Uint64

	mu      sync.Mutex
	domains map[string]cached[store.Domain]
	lists   cached[map[string]store.MailingList] // every list by address; nil map: too many lists
	keys    map[string]cached[cachedKey]         // by hash

	// keyReads are the key lookups under way, by hash: concurrent misses
	// of one key share one query (readKey).
	flightMu sync.Mutex
	keyReads map[string]*keyRead
}

type keyRead struct {
	done chan struct{}
	k    store.Key
	err  error
}

// cachedKey is an API key and when the read that found it started.
type cachedKey struct {
	k  store.Key
	at time.Time
}

// KeyTTL bounds how long a node uses an API key it read; removing keys on
// PostgreSQL waits that long after its commit.
const KeyTTL = time.Second

type cached[T any] struct {
	gen uint64
	v   T
	ok  bool
}

// CacheChannel is the PostgreSQL channel of cache invalidations.
const CacheChannel = "salvo_cache"

// maxCached bounds each map; past it the map starts over.
const maxCached = 10000

// maxCachedLists is how many lists the list cache holds; with more, list
// lookups read the database.
const maxCachedLists = 10000

// PeerCounter is a counter shared by the processes using one database.
type PeerCounter interface {
	Load() uint64
	Add()
}

// SharePeers makes the cache see changes by other processes that add to
// p, and add to p for its own.
// It turns the cache on; call it before the store is used.
func (db *DB) SharePeers(p PeerCounter) {
	db.cache.peers = p
	db.cache.peersSeen.Store(p.Load())
	db.cache.live.Store(true)
}

// current returns the generation to tag a read with, and whether caching
// is on at all.
func (c *cache) current() (uint64, bool) {
	if c.peers != nil {
		// The generation moves before peersSeen does, so a lookup that
		// finds the counter seen also finds the generation moved.
		if v, seen := c.peers.Load(), c.peersSeen.Load(); v != seen {
			c.changed()
			c.peersSeen.CompareAndSwap(seen, v)
		}
	}
	return c.gen.Load(), c.live.Load()
}

// changed moves the generation: every entry read before is stale.
func (c *cache) changed() { c.gen.Add(1) }

// committed is called after a transaction that changed cached rows
// committed.
func (c *cache) committed() {
	c.changed()
	if c.peers != nil {
		c.peers.Add()
	}
}

// invalidate marks t as changing cached rows: on PostgreSQL it notifies the
// other nodes when t commits, and on every dialect this node's entries go
// stale once t committed.
func (t *Tx) invalidate(ctx context.Context) error {
	t.invalidates = true
	if t.db.dialect.postgres() {
		_, err := t.rawExec(ctx, `SELECT pg_notify('`+CacheChannel+`', '')`)
		return err
	}
	return nil
}

// WatchChanges runs watch in the background until the DB closes. watch
// must call changed whenever others may have changed cached rows, and
// live(false) whenever it cannot tell (the cache then reads through) and
// live(true) once it can again, after a changed.
func (db *DB) WatchChanges(watch func(ctx context.Context, changed func(), live func(bool))) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watch(ctx, db.cache.changed, db.cache.live.Store)
	}()
	db.OnClose(func() error {
		cancel()
		<-done
		return nil
	})
}

// lookup returns m[k] if it is current.
func lookup[T any](db *DB, m *map[string]cached[T], k string) (T, bool) {
	var zero T
	gen, on := db.cache.current()
	if !on {
		return zero, false
	}
	db.cache.mu.Lock()
	e, ok := (*m)[k]
	db.cache.mu.Unlock()
	if !ok || !e.ok || e.gen != gen {
		return zero, false
	}
	return e.v, true
}

// keep stores v for k, tagged with gen (taken before v was read).
func keep[T any](db *DB, m *map[string]cached[T], k string, gen uint64, v T) {
	db.cache.mu.Lock()
	defer db.cache.mu.Unlock()
	if *m == nil || len(*m) >= maxCached {
		*m = map[string]cached[T]{}
	}
	(*m)[k] = cached[T]{gen: gen, v: v, ok: true}
}

func cloneDomain(d store.Domain) store.Domain {
	d.DKIMPrivate, d.DNSChecks = slices.Clone(d.DKIMPrivate), slices.Clone(d.DNSChecks)
	return d
}
