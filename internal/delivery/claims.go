package delivery

import "sync"

// A claim skips the destinations at their connection limit. While a big
// backlog waits for one busy destination, every accept to it used to wake
// a claim that came back empty: on the end-to-end benchmark most claims
// were such vain ones while a claim still walked the skipped destination's
// due jobs (docs/performance.md, "Claims with a deep queue"). news and idleClaim let the loop see such a claim
// is vain and skip it. (The store now reads a claim with skips destination
// by destination, so one that does run costs about one index seek per
// destination, whatever the skipped backlog; skipping a vain one still
// saves a transaction.)

// maxNewsDests bounds the destinations news remembers between two claims;
// past it, news says "unknown" and the next wake claims.
const maxNewsDests = 1024

// news collects the destinations of jobs that fell due on this node since
// the claim loop last looked, or that some were unknown.
type news struct {
	mu      sync.Mutex
	dests   map[string]struct{}
	unknown bool
}

// add records dests; nil means unknown destinations.
func (n *news) add(dests []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if dests == nil || len(n.dests)+len(dests) > maxNewsDests {
		n.unknown = true
		return
	}
	if n.dests == nil {
		n.dests = make(map[string]struct{}, len(dests))
	}
	for _, d := range dests {
		n.dests[d] = struct{}{}
	}
}

// take returns what was recorded and forgets it.
func (n *news) take() (map[string]struct{}, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d, u := n.dests, n.unknown
	n.dests, n.unknown = nil, false
	return d, u
}

// idleClaim remembers the last claim if it found nothing: the
// destinations it skipped. Only the claim loop uses it.
type idleClaim struct {
	known   bool
	skipped map[string]struct{}
}

func (c *idleClaim) set(skip []string) {
	c.known = true
	c.skipped = make(map[string]struct{}, len(skip))
	for _, d := range skip {
		c.skipped[d] = struct{}{}
	}
}

func (c *idleClaim) forget() { c.known, c.skipped = false, nil }

// vain reports whether a claim skipping skip can only find nothing: the
// last claim found no due job outside the destinations it skipped, this
// one skips all of those too, and every destination with news since then
// is skipped as well. (Jobs that time makes due are the timer's: it claims
// regardless.)
func (c *idleClaim) vain(skip []string, news map[string]struct{}) bool {
	if !c.known {
		return false
	}
	now := make(map[string]struct{}, len(skip))
	for _, d := range skip {
		now[d] = struct{}{}
	}
	for d := range c.skipped {
		if _, ok := now[d]; !ok {
			return false
		}
	}
	for d := range news {
		if _, ok := now[d]; !ok {
			return false
		}
	}
	return true
}
