package delivery

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// Destination health: a dead destination costs neither a connection
// attempt per message nor the engine's time (what Postfix's dead
// destination cache and KumoMTA's suspensions do).
//
// A destination is what one connection reaches: the smarthost when one is
// set, else a recipient domain (its MX host set). When no session can be
// opened to it (refused, timeout, TLS failure, a refused greeting or
// EHLO: every host failed), it is marked down for a backoff that starts
// at HealthBackoff and doubles with each consecutive failure, up to the
// first step of the retry schedule. While it is down, the chunks claimed
// for it are not dialled: each job is recorded at once as a temporary
// failure that says the destination is unreachable (its event, its retry
// on Mailgun's schedule, the 8 h give-up: per message, as usual), in the
// same group-committed write as other outcomes. When the backoff ends one
// probe — a bare session (EHLO, QUIT), one at a time — decides: on
// success the destination is up again and its deferred jobs are made due
// at once (store.ReleaseDeferred, one statement), so the backlog drains
// at the engine's normal rate within the per-destination limit; on
// failure the backoff doubles. State is per node and in memory: a
// restarted node learns it again from one failed connection.

// deferMarker starts the last error of every job deferred because its
// destination is down (lastError of deferred); ReleaseDeferred finds them
// by it.
const deferMarker = "421 4.4.1 destination unreachable"

// deferred is the outcome of a job not tried because its destination is
// down.
func deferred(why string) Result {
	return Result{Kind: Temporary, Code: 421, EnhancedCode: "4.4.1", Message: why, Reason: events.ReasonGeneric, Unreachable: true}
}

// destHealth is what the engine knows of a destination that failed.
type destHealth struct {
	failures int
	since    time.Time // first failure of this run
	until    time.Time // no connection before this
	probing  bool
	lastErr  string
	// dests are the recipient domains deferred while down (the smarthost
	// key covers many).
	dests map[string]bool
}

// health is the table of destinations that are down, by key.
type health struct {
	mu   sync.Mutex
	down map[string]*destHealth
}

// healthKey is the destination a recipient domain's mail goes to.
func (e *Engine) healthKey(dest string) string {
	if e.cfg.Smarthost != "" {
		return "smarthost " + e.cfg.Smarthost
	}
	return dest
}

// admit reports whether a chunk for dest may open a connection now; when
// not, the reason to record.
func (e *Engine) admit(dest string, now time.Time) (bool, string) {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.down[e.healthKey(dest)]
	if d == nil {
		return true, ""
	}
	if !d.probing && !now.Before(d.until) {
		// The backoff is over: this chunk is the probe.
		d.probing = true
		return true, ""
	}
	d.dests[dest] = true
	return false, fmt.Sprintf("destination unreachable (%d failed connection attempts since %s: %s); not tried before %s",
		d.failures, d.since.UTC().Format(time.RFC3339), d.lastErr, d.until.UTC().Format(time.RFC3339))
}

// throttledBy backs dest off when any of results is Throttled: a server
// that asks to slow down is given the same backoff as one that cannot be
// reached (doubling while it keeps asking), so the rest of the chunk and
// the next chunks wait instead of hammering it.
func (e *Engine) throttledBy(dest string, results []Result) bool {
	for _, r := range results {
		if r.Kind == Throttled {
			e.connectFailed(dest, e.deps.Now(), fmt.Errorf("throttled by %s: %d %s %s", r.MXHost, r.Code, r.EnhancedCode, r.Message))
			return true
		}
	}
	return false
}

// deferRest records the transactions of a chunk not tried because dest
// backs off, each as deferred (released when it is up again).
func (e *Engine) deferRest(dest string, rest []*pending) {
	if len(rest) == 0 {
		return
	}
	_, why := e.admit(dest, e.deps.Now())
	for _, p := range rest {
		e.record(p, repeat(deferred(why), len(p.jobs)))
	}
}

// connectFailed marks dest down (or further down) after no session could
// be opened to it.
func (e *Engine) connectFailed(dest string, now time.Time, err error) {
	h := &e.health
	key := e.healthKey(dest)
	h.mu.Lock()
	d := h.down[key]
	if d == nil {
		if h.down == nil {
			h.down = map[string]*destHealth{}
		}
		d = &destHealth{since: now, dests: map[string]bool{}}
		h.down[key] = d
	}
	// Concurrent connections that were already under way when the
	// destination went down fail too: only a new failure or a failed
	// probe counts towards the backoff.
	if d.failures == 0 || d.probing {
		d.failures++
	}
	d.probing = false
	d.lastErr = oneLine(err.Error())
	backoff := e.backoff(d.failures)
	d.until = now.Add(backoff)
	h.mu.Unlock()
	e.deps.Log.Warn("destination down", "destination", key, "failures", d.failures, "backoff", backoff, "err", err)
}

// connected marks dest up after a session was opened; when it was down,
// its deferred jobs are released.
func (e *Engine) connected(dest string) {
	h := &e.health
	key := e.healthKey(dest)
	h.mu.Lock()
	d := h.down[key]
	if d != nil {
		delete(h.down, key)
	}
	h.mu.Unlock()
	if d == nil {
		return
	}
	e.deps.Log.Info("destination up again", "destination", key, "failures", d.failures)
	e.releaseDeferred(key, d)
}

// releaseDeferred makes the deferred jobs of a destination that is up
// again due now, and wakes the engine.
func (e *Engine) releaseDeferred(key string, d *destHealth) {
	now := e.deps.Now()
	domains := []string{""}
	if e.cfg.Smarthost == "" {
		domains = []string{key}
	}
	for _, dom := range domains {
		n, err := e.deps.Store.ReleaseDeferred(e.ctx, dom, deferMarker, now)
		if err != nil {
			e.deps.Log.Error("release deferred jobs", "destination", key, "err", err)
			continue
		}
		if n > 0 {
			e.deps.Log.Info("deferred jobs released", "destination", key, "jobs", n)
		}
	}
	e.Notify()
}

// backoff is the delay after the n-th consecutive failure.
func (e *Engine) backoff(n int) time.Duration {
	b := e.cfg.HealthBackoff
	limit := b
	if len(e.cfg.Retry.Schedule) > 0 {
		limit = max(b, e.cfg.Retry.Schedule[0])
	}
	for i := 1; i < n && b < limit; i++ {
		b *= 2
	}
	return min(b, limit)
}

// probeDue starts a probe for each destination that is down, has
// deferred mail and whose backoff is over (called by the claim loop).
func (e *Engine) probeDue() {
	now := e.deps.Now()
	h := &e.health
	h.mu.Lock()
	var keys []string
	for k, d := range h.down {
		if !d.probing && len(d.dests) > 0 && !now.Before(d.until) {
			d.probing = true
			keys = append(keys, k)
		}
	}
	h.mu.Unlock()
	for _, k := range keys {
		// resolve ignores the domain when a smarthost is set.
		e.wg.Add(1)
		e.deps.Metrics.Go(e.deps.Log, "delivery probe "+k, func() {
			defer e.wg.Done()
			e.probe(k)
		})
	}
}

// probe opens and closes one session to dest.
func (e *Engine) probe(dest string) {
	hosts, err := e.resolve(e.ctx, dest)
	if err == nil {
		var cn *conn
		if cn, err = e.connect(e.ctx, hosts, e.probeSource()); err == nil {
			cn.close()
		}
	}
	if err != nil {
		e.connectFailed(dest, e.deps.Now(), err)
		return
	}
	e.connected(dest)
}

// Health lists the destinations this node knows to be down.
func (e *Engine) Health() []mgapi.QueueHealth {
	h := &e.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]mgapi.QueueHealth, 0, len(h.down))
	for k, d := range h.down {
		st := "backing-off"
		if d.probing {
			st = "probing"
		}
		out = append(out, mgapi.QueueHealth{Destination: k, State: st, Failures: d.failures, Since: d.since,
			Until: d.until, LastError: d.lastErr})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
