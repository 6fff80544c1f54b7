package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/shaping"
)

// Traffic shaping (issue 17 §2, package shaping): a destination's first
// MX host names its group (Google, Microsoft, Yahoo, …; the default group
// otherwise); per group and source address the engine holds at most
// max_connections sessions open at once (waiting for a slot before it
// dials), carries at most max_messages_per_connection messages over one
// session (then QUIT and a new session), and takes one message from the
// per-minute and per-hour token buckets before each transaction. When the
// buckets are empty, or the group is paused after a throttle, the chunk's
// remaining jobs go back to the queue due when the next message may go,
// without counting an attempt. A Throttled reply pauses the group and
// source and halves its rate (Limiter.Throttled); accepted mail brings
// it back gradually (Limiter.Delivered). The limits are this node's
// (docs/shaping.md says how they split across nodes).

// shapeKey is the shaping key and limits of mail to dest over hosts from src.
func (e *Engine) shapeKey(hosts []mxHost, dest string, src ips.Source) (shaping.Key, shaping.Limits) {
	mx := ""
	if len(hosts) > 0 {
		mx = hosts[0].name
	}
	s := ""
	if !src.IsZero() {
		s = src.Addr.String()
	}
	return e.shaper.Key(mx, dest, s)
}

// Shaping lists this node's shaping state for the queue view.
func (e *Engine) Shaping() []shaping.State { return e.shaper.States() }

// slot is a shaped session's hold on its group's connection limit.
type slot struct {
	key     shaping.Key
	lim     shaping.Limits
	release func()
	sent    int // transactions carried
}

// full reports whether the session carried its messages per connection.
func (s *slot) full() bool {
	return s.lim.MaxMessagesPerConnection > 0 && s.sent >= s.lim.MaxMessagesPerConnection
}

func (s *slot) free() {
	if s.release != nil {
		s.release()
	}
	*s = slot{}
}

// inlineWait is the longest wait for a rate's next token that a session
// sits out (open) rather than giving its jobs back: at rates of a message
// a second or more the session keeps sending at the rate, instead of each
// token costing a release and a claim of the group's whole backlog.
const inlineWait = time.Second

// take takes one message of k's allowance, waiting for it when it comes
// within inlineWait (a few times at most: the clock may not be the wall
// clock's); otherwise it returns false and when the next one comes.
func (e *Engine) take(k shaping.Key, lim shaping.Limits) (bool, time.Time) {
	for range 3 {
		ok, at := e.shaper.Take(k, lim)
		if ok {
			return true, at
		}
		wait := at.Sub(e.deps.Now())
		if wait > inlineWait {
			return false, at
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.stop:
			t.Stop()
			return false, at
		}
	}
	return e.shaper.Take(k, lim)
}

// postpone gives the jobs of ps back to the queue due at at, without
// counting an attempt: shaping, not the destination, held them.
func (e *Engine) postpone(ps []*pending, at time.Time, why string) {
	var ids []int64
	for _, p := range ps {
		for _, j := range p.jobs {
			ids = append(ids, j.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := e.deps.Store.ReleaseJobs(context.WithoutCancel(e.ctx), ids, at); err != nil {
		e.deps.Log.Error("postpone shaped jobs", "err", err)
	}
	e.drop(ids)
	e.deps.Log.Debug("delivery postponed by shaping", "jobs", len(ids), "until", at, "why", why)
	e.NotifyDue(at)
}

// shapedBy tells the limiter how the provider answered a transaction.
func (e *Engine) shapedBy(s *slot, results []Result) {
	for _, r := range results {
		if r.Kind == Throttled {
			e.shaper.Throttled(s.key, s.lim, fmt.Sprintf("throttled by %s: %d %s %s", r.MXHost, r.Code, r.EnhancedCode, oneLine(r.Message)))
			return
		}
	}
	for _, r := range results {
		if r.Kind == Delivered {
			e.shaper.Delivered(s.key, s.lim)
			return
		}
	}
}

type timeoutsKey struct{}

type timeouts struct{ connect, command time.Duration }

// withTimeouts carries a group's connect and command timeouts to connect.
func withTimeouts(ctx context.Context, lim shaping.Limits) context.Context {
	return context.WithValue(ctx, timeoutsKey{}, timeouts{time.Duration(lim.ConnectTimeout), time.Duration(lim.CommandTimeout)})
}

// connectTimeout is how long one TCP connect may take (0: no bound).
func (e *Engine) connectTimeout(ctx context.Context) time.Duration {
	if t, ok := ctx.Value(timeoutsKey{}).(timeouts); ok && t.connect > 0 {
		return t.connect
	}
	return e.cfg.ConnectTimeout
}

// commandTimeout is how long one SMTP command may take.
func (e *Engine) commandTimeout(ctx context.Context) time.Duration {
	if t, ok := ctx.Value(timeoutsKey{}).(timeouts); ok && t.command > 0 {
		return t.command
	}
	return e.cfg.CommandTimeout
}
