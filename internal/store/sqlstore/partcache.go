package sqlstore

import (
	"container/list"
	"sync"
)

// partCacheBytes bounds the bodies the parts cache holds (docs/performance.md,
// "Events at a million"): enough for the parts of a page of 300 events
// from 300 messages whose To headers are 29 KB each, with room to spare.
const partCacheBytes = 12 << 20

// partCache keeps recently read event parts, least recently used first
// out. A part is named by its message and the digest of its bytes, so an
// entry never goes stale: another node writing the same key wrote the
// same bytes, and a purged part is one no event names any more. A page
// of events read again (Ghost's analytics and the dashboard poll the
// newest pages) then costs no second transfer of its messages' headers
// from the database; without it, a page of 300 events of 300 different
// messages moves 8.7 MB of parts from PostgreSQL each time.
type partCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	lru   list.List // of *partEntry, most recent at the front
	byKey map[partCacheKey]*list.Element
}

type partCacheKey struct{ domain, messageID, digest string }

type partEntry struct {
	key  partCacheKey
	body string
}

func newPartCache(max int) *partCache {
	return &partCache{max: max, byKey: map[partCacheKey]*list.Element{}}
}

// get returns the part's body; a nil cache holds nothing.
func (c *partCache) get(k partCacheKey) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return "", false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*partEntry).body, true
}

// put keeps a part read from the database. A body larger than an eighth
// of the cache is not kept (it would push out the rest of a page).
func (c *partCache) put(k partCacheKey, body string) {
	if c == nil || len(body) > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.byKey[k] = c.lru.PushFront(&partEntry{key: k, body: body})
	c.bytes += entrySize(k, body)
	for c.bytes > c.max {
		el := c.lru.Back()
		e := el.Value.(*partEntry)
		c.lru.Remove(el)
		delete(c.byKey, e.key)
		c.bytes -= entrySize(e.key, e.body)
	}
}

// entrySize counts an entry's strings and about 150 bytes of map, list
// and header overhead.
func entrySize(k partCacheKey, body string) int {
	return len(body) + len(k.domain) + len(k.messageID) + len(k.digest) + 150
}
