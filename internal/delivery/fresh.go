package delivery

import (
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Accepted hands the engine a message this node has just stored with jobs
// due now, so that delivering it reads nothing back from the store (on
// SQLite a read was ~5 % of an end-to-end delivery's CPU; on PostgreSQL a
// round trip per chunk). It is an optimisation only: a message not handed
// over, or dropped (too big, no room, too old, claimed by another node), is
// read from the store as before.
func (e *Engine) Accepted(m store.Message) { e.fresh.put(m, e.deps.Now()) }

// Bounds of the messages handed over and not yet delivered.
const (
	freshLimit   = 16 << 20         // bytes of bodies held (their capacity: what they occupy)
	freshMaxSize = 1 << 20          // larger messages are not held
	freshMaxAge  = 30 * time.Second // older ones were claimed elsewhere, or are late
)

// freshMessages holds handed-over messages until their first delivery
// loads them. When full it refuses new ones rather than evict old ones:
// the queue delivers the oldest first, so under a backlog the messages
// held are the next to go.
type freshMessages struct {
	mu    sync.Mutex
	items map[string]freshMessage
	order []string // keys in the order put; may name taken ones
	size  int
}

type freshMessage struct {
	m  store.Message
	at time.Time
}

func (f *freshMessages) put(m store.Message, now time.Time) {
	if len(m.Body) > freshMaxSize {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.items == nil {
		f.items = map[string]freshMessage{}
	}
	f.expire(now)
	if _, ok := f.items[m.Key]; ok || f.size+cap(m.Body) > freshLimit {
		return
	}
	f.items[m.Key] = freshMessage{m: m, at: now}
	f.order = append(f.order, m.Key)
	f.size += cap(m.Body)
}

// expire drops the messages held longer than freshMaxAge, and forgets the
// keys of the ones taken, from the front of the order.
func (f *freshMessages) expire(now time.Time) {
	n := 0
	for _, k := range f.order {
		fm, ok := f.items[k]
		if ok && now.Sub(fm.at) < freshMaxAge {
			break
		}
		if ok {
			delete(f.items, k)
			f.size -= cap(fm.m.Body)
		}
		n++
	}
	// Reslicing, not copying: this runs on the send path, and a backlog
	// can hold thousands of keys (append reallocates the live part).
	f.order = f.order[n:]
}

// take returns and forgets the message of key if it is held.
func (f *freshMessages) take(key string) (store.Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fm, ok := f.items[key]
	if ok {
		delete(f.items, key)
		f.size -= cap(fm.m.Body)
	}
	return fm.m, ok
}

// has reports whether the message of key is held.
func (f *freshMessages) has(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.items[key]
	return ok
}
