package sqlstore

import (
	"strconv"
	"strings"
	"testing"
)

func TestPartCacheBound(t *testing.T) {
	t.Parallel()
	const max = 64 << 10
	c := newPartCache(max)
	body := strings.Repeat("x", 4000)
	key := func(i int) partCacheKey { return partCacheKey{"a.com", "m" + strconv.Itoa(i), "d"} }
	for i := range 100 {
		c.put(key(i), body+strconv.Itoa(i))
		if c.bytes > max {
			t.Fatalf("after %d puts the cache holds %d bytes, more than its bound %d", i+1, c.bytes, max)
		}
		// Key 0 is read after every put: it stays while others go.
		if got, ok := c.get(key(0)); !ok || got != body+"0" {
			t.Fatalf("after %d puts, the most recently read part is gone (%v)", i+1, ok)
		}
	}
	if _, ok := c.get(key(1)); ok {
		t.Error("the least recently used part was kept past the bound")
	}
	if got, ok := c.get(key(99)); !ok || got != body+"99" {
		t.Errorf("the last part put reads back %v %q…", ok, got[:min(len(got), 10)])
	}
	c.put(key(1000), strings.Repeat("y", max/8+1))
	if _, ok := c.get(key(1000)); ok {
		t.Error("a part larger than an eighth of the cache was kept")
	}
	var none *partCache
	none.put(key(1), body)
	if _, ok := none.get(key(1)); ok {
		t.Error("a nil cache returned a part")
	}
}
