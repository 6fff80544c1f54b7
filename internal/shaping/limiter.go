package shaping

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// Key is what the limiter counts by: a group and a source address. The
// default group has no provider to share, so it counts per destination
// (recipient domain), as --per-destination always did.
type Key struct {
	Group       string // "" for the default group
	Destination string // the recipient domain, for the default group only
	Source      string // source address; "" when the kernel chooses
}

func (k Key) String() string {
	src := k.Source
	if src == "" {
		src = "kernel's choice"
	}
	if k.Group == "" {
		return "default group, " + k.Destination + ", from " + src
	}
	return "group " + k.Group + " from " + src
}

// Limiter enforces a configuration on one node: connections open at once
// and messages per minute and per hour by Key, with adaptive back-off.
// All of its methods are safe for concurrent use.
type Limiter struct {
	cfg    *Config
	engine Limits
	now    func() time.Time

	mu     sync.Mutex
	states map[Key]*state
	gets   int
}

// NewLimiter makes a limiter for cfg; engine are the values unset
// anywhere in cfg (Resolve); now is the clock.
func NewLimiter(cfg *Config, engine Limits, now func() time.Time) *Limiter {
	if cfg == nil {
		cfg = Builtin()
	}
	return &Limiter{cfg: cfg, engine: engine, now: now, states: map[Key]*state{}}
}

// Config is the limiter's configuration.
func (l *Limiter) Config() *Config { return l.cfg }

// Key is the key of mail to destination (a recipient domain) whose first
// MX host is mxHost, sent from src ("" for the kernel's choice), and the
// group's limits for it.
func (l *Limiter) Key(mxHost, destination, src string) (Key, Limits) {
	g := l.cfg.Match(mxHost)
	k := Key{Source: src}
	if g == nil {
		k.Destination = destination
	} else {
		k.Group = g.Name
	}
	return k, l.cfg.Resolve(g, src, l.engine)
}

// bucket is a token bucket: perSec tokens a second, at most size.
type bucket struct {
	perSec, size, tokens float64
	last                 time.Time
}

func newBucket(perMinuteOrHour float64, per time.Duration, burst time.Duration) *bucket {
	perSec := perMinuteOrHour / per.Seconds()
	size := burstSize(perSec, burst)
	return &bucket{perSec: perSec, size: size, tokens: size}
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.last = now
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.size, b.tokens+dt*b.perSec)
	}
	b.last = now
}

// wait is how long until a token is there (0: now).
func (b *bucket) wait() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.perSec * float64(time.Second))
}

// setRate changes the rate; the tokens on hand stay (at most the new size).
func (b *bucket) setRate(perMinute float64) {
	b.perSec = perMinute / 60
	b.size = burstSize(b.perSec, minuteBurst)
	b.tokens = math.Min(b.tokens, b.size)
}

// burstSize is a bucket's size: burst's worth of the rate, rounded up
// (10/min holds 2), at least 1.
func burstSize(perSec float64, burst time.Duration) float64 {
	return math.Max(1, math.Ceil(perSec*burst.Seconds()-1e-9))
}

// A full minute bucket holds ten seconds of its rate, a full hour bucket
// one minute of its rate: bursts stay small, so a limit holds over any
// window of its length within a sixth (a sixtieth) of it, plus one.
const (
	minuteBurst = 10 * time.Second
	hourBurst   = time.Minute
)

// state is the limiter's state of one key.
type state struct {
	key   Key
	lim   Limits
	open  int
	freed chan struct{} // closed when a connection is released

	minute, hour *bucket // nil: no limit
	// adaptive is the lowered per-minute rate after a throttle (0: none);
	// target is what it recovers to.
	adaptive, target float64
	pausedUntil      time.Time
	lastRecover      time.Time
	reason           string
	since            time.Time
	throttles        int

	// sent per fixed minute window, for the rate a throttle halves when
	// no rate is configured.
	winStart  time.Time
	cur, prev int
}

func (l *Limiter) get(k Key, lim Limits) *state {
	st := l.states[k]
	if st == nil {
		st = &state{key: k, freed: make(chan struct{})}
		l.states[k] = st
	}
	if st.lim != lim {
		st.configure(lim)
	}
	if l.gets++; l.gets%1024 == 0 {
		l.sweep()
	}
	return st
}

// configure applies (changed) limits to a state.
func (st *state) configure(lim Limits) {
	st.lim = lim
	st.minute, st.hour = nil, nil
	if lim.MaxMessagesPerMinute > 0 {
		st.minute = newBucket(float64(lim.MaxMessagesPerMinute), time.Minute, minuteBurst)
	}
	if lim.MaxMessagesPerHour > 0 {
		st.hour = newBucket(float64(lim.MaxMessagesPerHour), time.Hour, hourBurst)
	}
	if st.adaptive > 0 {
		st.applyAdaptive()
	}
}

// applyAdaptive makes the minute bucket run at the adaptive rate.
func (st *state) applyAdaptive() {
	if st.minute == nil {
		st.minute = newBucket(st.adaptive, time.Minute, minuteBurst)
		st.minute.tokens = 0
	}
	st.minute.setRate(st.adaptive)
}

// sweep forgets idle states of the default group (one per recipient
// domain and source): nothing open, nothing lowered, no pause.
func (l *Limiter) sweep() {
	now := l.now()
	for k, st := range l.states {
		if k.Group == "" && st.open == 0 && st.adaptive == 0 && now.After(st.pausedUntil) && st.minute == nil && st.hour == nil {
			delete(l.states, k)
		}
	}
}

// Acquire waits for a connection slot of k (lim.MaxConnections at once;
// 0: no limit) and returns its release, or false when ctx ends or stop is
// closed first.
func (l *Limiter) Acquire(ctx context.Context, k Key, lim Limits, stop <-chan struct{}) (func(), bool) {
	for {
		l.mu.Lock()
		st := l.get(k, lim)
		if lim.MaxConnections <= 0 || st.open < lim.MaxConnections {
			st.open++
			l.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { l.release(st) }) }, true
		}
		ch := st.freed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false
		case <-stop:
			return nil, false
		}
	}
}

func (l *Limiter) release(st *state) {
	l.mu.Lock()
	st.open--
	close(st.freed)
	st.freed = make(chan struct{})
	l.mu.Unlock()
}

// Take takes one message from k's allowance. When there is none it
// returns false and when the next one is (a pause after a throttle, or
// the rate's next token).
func (l *Limiter) Take(k Key, lim Limits) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st := l.get(k, lim)
	if now.Before(st.pausedUntil) {
		return false, st.pausedUntil
	}
	var wait time.Duration
	for _, b := range []*bucket{st.minute, st.hour} {
		if b != nil {
			b.refill(now)
			wait = max(wait, b.wait())
		}
	}
	if wait > 0 {
		return false, now.Add(wait)
	}
	for _, b := range []*bucket{st.minute, st.hour} {
		if b != nil {
			b.tokens--
		}
	}
	st.count(now)
	return true, time.Time{}
}

// count notes a message sent at now.
func (st *state) count(now time.Time) {
	st.roll(now)
	st.cur++
}

func (st *state) roll(now time.Time) {
	switch d := now.Sub(st.winStart); {
	case st.winStart.IsZero() || d >= 2*time.Minute:
		st.winStart, st.prev, st.cur = now, 0, 0
	case d >= time.Minute:
		st.winStart, st.prev, st.cur = st.winStart.Add(time.Minute), st.cur, 0
	}
}

// recentPerMinute estimates the messages sent in the last minute.
func (st *state) recentPerMinute(now time.Time) float64 {
	st.roll(now)
	frac := float64(now.Sub(st.winStart)) / float64(time.Minute)
	return float64(st.prev)*(1-frac) + float64(st.cur)
}

// currentPerMinute is the per-minute rate in force (0: no limit).
func (st *state) currentPerMinute() float64 {
	if st.adaptive > 0 {
		return st.adaptive
	}
	return float64(st.lim.MaxMessagesPerMinute)
}

// Throttled records that k's provider asked to slow down (why is its
// reply): k sends nothing for ThrottleBackoff, then at half the rate it
// had (the configured or adaptive rate, else what it sent in the last
// minute), at least MinMessagesPerMinute.
func (l *Limiter) Throttled(k Key, lim Limits, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st := l.get(k, lim)
	rate := st.currentPerMinute()
	if rate == 0 {
		rate = st.recentPerMinute(now)
	}
	floor := float64(max(1, lim.MinMessagesPerMinute))
	if c := float64(lim.MaxMessagesPerMinute); c > 0 {
		floor = math.Min(floor, c)
	}
	if st.adaptive == 0 {
		st.target = float64(lim.MaxMessagesPerMinute)
		if st.target == 0 {
			st.target = math.Max(rate, 2*floor)
		}
	}
	st.adaptive = math.Max(floor, math.Floor(rate/2))
	st.applyAdaptive()
	st.minute.tokens, st.minute.last = 0, now // refills from now, pause included
	backoff := time.Duration(lim.ThrottleBackoff)
	st.pausedUntil = now.Add(backoff)
	st.lastRecover = st.pausedUntil
	st.throttles++
	st.since = now
	st.reason = fmt.Sprintf("%s; paused until %s, then %g messages/minute, +%g every %s while accepted",
		why, st.pausedUntil.UTC().Format(time.RFC3339), st.adaptive, st.step(), time.Duration(lim.RecoverEvery))
}

// step is the additive increase of a lowered rate.
func (st *state) step() float64 { return math.Max(1, math.Floor(st.target/10)) }

// Delivered records a message k's provider accepted: a lowered rate goes
// up by a tenth of its target for each RecoverEvery since the last
// increase, and is lifted once back at the target.
func (l *Limiter) Delivered(k Key, lim Limits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st := l.get(k, lim)
	every := time.Duration(lim.RecoverEvery)
	if st.adaptive == 0 || every <= 0 || now.Sub(st.lastRecover) < every {
		return
	}
	n := int(now.Sub(st.lastRecover) / every)
	st.lastRecover = st.lastRecover.Add(time.Duration(n) * every)
	st.adaptive += float64(n) * st.step()
	if st.adaptive >= st.target {
		st.adaptive, st.target = 0, 0
		st.reason = fmt.Sprintf("recovered at %s after %d throttles", now.UTC().Format(time.RFC3339), st.throttles)
		st.since = now
		st.configure(st.lim) // the configured buckets again
		return
	}
	st.applyAdaptive()
	st.reason = fmt.Sprintf("recovering: %g messages/minute, +%g every %s while accepted", st.adaptive, st.step(), every)
}

// State is one key's shaping as the queue view shows it; the shape is
// mgapi.QueueShaping, kept with the other /queue shapes.
type State = mgapi.QueueShaping

// States lists what the limiter tracks, by group, destination and source.
func (l *Limiter) States() []State {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	out := make([]State, 0, len(l.states))
	for k, st := range l.states {
		s := State{Group: k.Group, Destination: k.Destination, Source: k.Source, Connections: st.open,
			MaxConnections: st.lim.MaxConnections, MaxMessagesPerConnection: st.lim.MaxMessagesPerConnection,
			MaxMessagesPerMinute: st.lim.MaxMessagesPerMinute, MaxMessagesPerHour: st.lim.MaxMessagesPerHour,
			CurrentMessagesPerMinute: st.currentPerMinute(), State: "normal", Throttles: st.throttles, Reason: st.reason}
		if s.Group == "" {
			s.Group = "default"
		}
		switch {
		case now.Before(st.pausedUntil):
			u := st.pausedUntil
			s.State, s.PausedUntil = "paused", &u
		case st.adaptive > 0:
			s.State = "recovering"
		}
		if !st.since.IsZero() {
			t := st.since
			s.Since = &t
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		return a.Source < b.Source
	})
	return out
}
