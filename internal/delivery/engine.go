package delivery

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/shaping"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/tlspolicy"
	"github.com/salvo-email/salvo/internal/verp"
)

// Config tunes the engine.
type Config struct {
	Hostname       string // EHLO name
	Workers        int    // connections open at once
	PerDestination int    // connections open at once to one destination
	Retry          Retry
	Lease          time.Duration
	ConnectTimeout time.Duration
	// CommandTimeout bounds each command's reply. Its default, 5 minutes,
	// is what RFC 5321 §4.5.3.2 gives the greeting, MAIL and RCPT (it
	// gives DATA 2, a data block 3 and the end of DATA 10); Salvo uses one
	// bound for all.
	CommandTimeout time.Duration
	Smarthost      string // host:port; empty means MX lookup
	// Capture keeps every copy in the store instead of sending it
	// (capture.go); nothing is dialled.
	Capture bool
	MXPort  string // port of MX hosts (25; tests use their own)
	// JobsPerConnection bounds how many jobs one connection carries before
	// it is closed and the rest are claimed again.
	JobsPerConnection int
	// PollInterval bounds how long the engine sleeps without being woken.
	PollInterval time.Duration
	// Shaping is the traffic shaping configuration (nil: the built-in
	// one; shaping.go).
	Shaping *shaping.Config
	// HealthBackoff is how long a destination no session could be opened
	// to is left alone after its first failure (doubling with each further
	// one, up to the first retry step; health.go). Default 30 s.
	HealthBackoff time.Duration
}

// Deps are the engine's collaborators; every one is a seam for tests.
type Deps struct {
	Store    store.Regional
	Resolver dns.Resolver
	Box      *secret.Box
	Now      func() time.Time
	Log      *slog.Logger
	Metrics  *obs.Metrics
	RootCAs  *x509.CertPool // nil: the system pool
	// Dial opens TCP connections (a net.Dialer by default; the connect
	// timeout comes with the context).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Sources are the node's source addresses (nil or empty: the kernel
	// chooses, and Dial is used); DialFrom opens a connection from one of
	// them (a net.Dialer bound to it by default).
	Sources  *ips.Set
	DialFrom func(ctx context.Context, local netip.Addr, network, addr string) (net.Conn, error)
	// TLSPolicy decides MTA-STS and DANE requirements per destination and
	// MX host (nil: opportunistic TLS only, as with a smarthost).
	TLSPolicy *tlspolicy.Checker
	// Tracker rewrites copies for tracking (nil: no tracking).
	Tracker Tracker
	// Prefetch loads the messages of a claimed chunk with one query
	// (Store.Messages) instead of one read each: worth it where each read
	// is a round trip (PostgreSQL: e2e deliveries +13 %); on SQLite it
	// measured 10 % slower.
	Prefetch bool
}

// Engine delivers queued jobs.
type Engine struct {
	cfg   Config
	deps  Deps
	owner string
	cache *messageCache
	// fresh are messages handed over at accept (Accepted).
	fresh freshMessages
	// signers caches parsed DKIM keys by domain and sealed key.
	signers sync.Map
	// health knows the destinations that are down (health.go).
	health health
	// shaper enforces the shaping limits (shaping.go).
	shaper *shaping.Limiter
	// bounces makes each copy's bounce address (nil without a Box: the
	// message's plain sender).
	bounces *verp.Signer

	wake    chan struct{}
	resched chan struct{}
	// news are the destinations that got due jobs since the last claim;
	// idle is what the claim loop knows from its last vain claim (loop
	// goroutine only). Together they spare a claim that can only come back
	// empty (see vain).
	news   news
	idle   idleClaim
	claims *prometheus.CounterVec
	// alarm is when the claim loop's timer fires (Unix nanoseconds).
	alarm    atomic.Int64
	life     startstop.Base
	stop     chan struct{}
	done     chan struct{}
	beatDone chan struct{}

	mu     sync.Mutex
	active int            // connections in use
	busy   map[string]int // connections per destination
	// held are the jobs this engine has claimed and not yet completed or
	// released: the only leases the heartbeat renews, so a job whose
	// release or outcome failed to write is not kept forever.
	held map[int64]struct{}
	// waiting are claimed chunks for destinations at their connection
	// limit; a connection of that destination takes the next when done.
	waiting     map[string][][]store.Job
	waitingJobs int
	wg          sync.WaitGroup
	// recording bounds outcome writes in flight (recordings), so a
	// connection goes on with its next message while the previous
	// outcome commits.
	recording  chan struct{}
	recordings sync.WaitGroup
	ctx        context.Context
	cancel     context.CancelFunc
}

// New makes an engine; Start runs it.
func New(cfg Config, deps Deps) *Engine {
	if cfg.MXPort == "" {
		cfg.MXPort = "25"
	}
	if cfg.JobsPerConnection == 0 {
		cfg.JobsPerConnection = 100
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 5 * time.Minute
	}
	if cfg.HealthBackoff == 0 {
		cfg.HealthBackoff = 30 * time.Second
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Dial == nil {
		deps.Dial = (&net.Dialer{}).DialContext // open applies the connect timeout
	}
	if deps.DialFrom == nil {
		deps.DialFrom = bindingDialer(0)
	}
	var bounces *verp.Signer
	if deps.Box != nil {
		bounces = verp.New(deps.Box.Derive(verp.KeyPurpose))
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		cfg: cfg, deps: deps, owner: secret.Token(8), cache: newMessageCache(messageCacheBytes), bounces: bounces,
		wake: make(chan struct{}, 1), resched: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), beatDone: make(chan struct{}),
		busy: map[string]int{}, held: map[int64]struct{}{}, waiting: map[string][][]store.Job{},
		recording: make(chan struct{}, max(1, cfg.Workers)), ctx: ctx, cancel: cancel,
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salvo_delivery_claims_total",
			Help: "Claims of due jobs by the delivery engine, by result: jobs (some claimed) or none.",
		}, []string{"result"}),
	}
	e.shaper = shaping.NewLimiter(cfg.Shaping, shaping.Limits{
		ConnectTimeout: shaping.Duration(cfg.ConnectTimeout), CommandTimeout: shaping.Duration(cfg.CommandTimeout),
	}, deps.Now)
	if deps.Metrics != nil {
		deps.Metrics.Registry.MustRegister(e.claims)
	}
	return e
}

// Notify wakes the engine to claim due jobs (a message was accepted, a
// connection freed, time moved).
func (e *Engine) Notify() {
	e.news.add(nil)
	e.wakeUp()
}

func (e *Engine) wakeUp() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// NotifyDue tells the engine that jobs for the destinations dests (none
// given: unknown) were queued for t. Jobs due now wake it; jobs due later
// only move its timer, and only when it would sleep past t. So scheduled
// mail costs the engine nothing per accept: a claim is a write, and a wake
// per accept would put a vain claim into every group commit. For the same
// reason jobs due now for destinations at their connection limit, whose
// jobs the claim skips, wake no claim once one found nothing else (vain).
func (e *Engine) NotifyDue(t time.Time, dests ...string) {
	if !t.After(e.deps.Now()) {
		if len(dests) == 0 {
			dests = nil // unknown: claim
		}
		e.news.add(dests)
		e.wakeUp()
		return
	}
	if t.UnixNano() >= e.alarm.Load() {
		return
	}
	select {
	case e.resched <- struct{}{}:
	default:
	}
}

// Start runs the claim loop and the lease heartbeat (once; see startstop).
func (e *Engine) Start() {
	if !e.life.StartInit() {
		return
	}
	e.deps.Metrics.Go(e.deps.Log, "delivery loop", e.loop)
	e.deps.Metrics.Go(e.deps.Log, "delivery lease heartbeat", e.heartbeat)
}

// heartbeat renews the leases of the jobs this engine holds every third
// of a lease, so a delivery that outlasts its lease (a slow receiver) is
// not claimed and delivered a second time. It runs until Stop has let the
// connections finish.
func (e *Engine) heartbeat() {
	defer close(e.beatDone)
	t := time.NewTicker(max(e.cfg.Lease/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		if err := e.deps.Store.RenewLeases(e.ctx, e.owner, e.heldIDs(), e.deps.Now().Add(e.cfg.Lease)); err != nil && e.ctx.Err() == nil {
			e.deps.Log.Error("renew delivery leases", "err", err)
		}
	}
}

// Stop stops claiming, lets connections finish their current message and
// gives their remaining jobs back; past ctx's deadline connections are cut
// and ctx's error is returned. Stop before Start returns at once; a second
// Stop waits for the first (startstop).
func (e *Engine) Stop(ctx context.Context) error {
	return e.life.Stop(ctx, e.stopRunning)
}

func (e *Engine) stopRunning(ctx context.Context) error {
	close(e.stop)
	e.mu.Lock()
	open := e.active
	e.mu.Unlock()
	e.deps.Log.Info("delivery stopping: finishing the messages in flight, giving the rest back", "connections", open)
	select {
	case <-e.done:
	case <-ctx.Done():
	}
	e.releaseWaiting()
	err := startstop.WaitOrCut(ctx, func() { e.wg.Wait(); e.recordings.Wait() }, e.cancel)
	e.cancel()
	select {
	case <-e.beatDone:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

func (e *Engine) stopping() bool {
	select {
	case <-e.stop:
		return true
	default:
		return false
	}
}

func (e *Engine) loop() {
	defer close(e.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		forced := false
		select {
		case <-e.stop:
			return
		case <-e.wake:
		case <-e.resched:
			e.setTimer(timer, e.sleepFor())
			continue
		case <-timer.C:
			// Time brings work no notification announces: scheduled
			// jobs and retries falling due, other nodes' accepts,
			// expired leases. The timer always claims.
			forced = true
		}
		e.probeDue()
		if e.claimAll(forced) || forced {
			e.setTimer(timer, e.sleepFor())
		}
	}
}

func (e *Engine) setTimer(t *time.Timer, d time.Duration) {
	e.alarm.Store(e.deps.Now().Add(d).UnixNano())
	t.Reset(d)
}

// sleepFor is how long to wait for the next due job, at most PollInterval.
// A job already due was left by claimAll because its destination is at its
// connection limit or every connection is busy; a freed slot wakes the
// engine (releaseSlot), so it waits for that rather than claiming again
// and again in vain.
func (e *Engine) sleepFor() time.Duration {
	next, err := e.deps.Store.NextDue(e.ctx)
	if err != nil || next.IsZero() {
		return e.cfg.PollInterval
	}
	d := next.Sub(e.deps.Now())
	if d <= 0 {
		return e.cfg.PollInterval
	}
	return min(max(d, 10*time.Millisecond), e.cfg.PollInterval)
}

// claimAll claims due jobs while there are free connections and not
// already a full round of work waiting, unless (not forced) the claim
// would be vain. It reports whether it queried the store.
func (e *Engine) claimAll(forced bool) bool {
	claimed := false
	for !e.stopping() {
		free, skip := e.capacity()
		if free == 0 {
			return claimed
		}
		// Taken before the query: what is announced from now on is
		// considered by the next round.
		dests, unknown := e.news.take()
		if !forced && !unknown && e.idle.vain(skip, dests) {
			return claimed
		}
		forced, claimed = false, true
		jobs, err := e.deps.Store.ClaimJobs(e.ctx, store.Claim{
			Now: e.deps.Now(), Lease: e.cfg.Lease, Owner: e.owner,
			Limit: free * e.cfg.JobsPerConnection, Skip: skip,
		})
		if err != nil {
			e.idle.forget()
			e.deps.Log.Error("claim jobs", "err", err)
			return claimed
		}
		if len(jobs) == 0 {
			e.idle.set(skip)
			e.claims.WithLabelValues("none").Inc()
			return claimed
		}
		e.idle.forget()
		e.claims.WithLabelValues("jobs").Inc()
		e.dispatch(jobs)
	}
	return claimed
}

// capacity returns how many connections may start and the destinations
// that are at their limit (or have claimed work waiting for one).
func (e *Engine) capacity() (int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.waitingJobs >= e.cfg.Workers*e.cfg.JobsPerConnection {
		return 0, nil
	}
	var skip []string
	for d, n := range e.busy {
		if n >= e.cfg.PerDestination || len(e.waiting[d]) > 0 {
			skip = append(skip, d)
		}
	}
	return max(0, e.cfg.Workers-e.active), skip
}

// dispatch splits claimed jobs into per-destination chunks and starts a
// connection for each chunk that fits the limits; the others wait for a
// connection of their destination to finish (they stay leased and held,
// so the heartbeat keeps their leases).
func (e *Engine) dispatch(jobs []store.Job) {
	e.hold(jobs)
	groups := map[string][]store.Job{}
	var order []string
	for _, j := range jobs {
		if _, ok := groups[j.RcptDomain]; !ok {
			order = append(order, j.RcptDomain)
		}
		groups[j.RcptDomain] = append(groups[j.RcptDomain], j)
	}
	for _, dest := range order {
		g := groups[dest]
		for len(g) > 0 {
			n := min(len(g), e.cfg.JobsPerConnection)
			chunk := g[:n]
			g = g[n:]
			if !e.acquire(dest) {
				e.mu.Lock()
				e.waiting[dest] = append(e.waiting[dest], chunk)
				e.waitingJobs += len(chunk)
				e.mu.Unlock()
				continue
			}
			e.wg.Add(1)
			e.deps.Metrics.Go(e.deps.Log, "delivery "+dest, func() {
				defer e.wg.Done()
				for chunk != nil {
					e.deliverChunk(dest, chunk)
					chunk = e.nextWaiting(dest)
				}
			})
		}
	}
}

// deliverChunk delivers one chunk over one connection: the unit of work.
// A panic in it stays in it: it is counted (obs), the chunk's jobs this
// engine still holds go back as temporary failures (giveBack), and the
// caller goes on with the connection slot as after any chunk (the next
// waiting chunk, or the slot and the destination's count are freed). The
// connection itself is closed by deliver's deferred close while the panic
// unwinds.
func (e *Engine) deliverChunk(dest string, chunk []store.Job) {
	defer func() {
		if v := recover(); v != nil {
			e.deps.Metrics.Recovered(e.deps.Log, "delivery "+dest, v)
			e.giveBack(chunk)
		}
	}()
	e.deliver(dest, chunk)
}

// errPanicked is the outcome of the jobs of a chunk whose delivery panicked.
var errPanicked = Result{Kind: Temporary, Code: 451, EnhancedCode: "4.3.0",
	Message: "Internal error while delivering; will retry", Reason: events.ReasonGeneric}

// giveBack completes the jobs of chunk still held as temporary failures,
// retried on the schedule (the attempt counts, so a job that panics every
// time is not retried hot). Jobs no longer held have their outcome
// written already; one whose outcome is still being written is safe too:
// a Done outcome deletes the row, which this update then misses, and two
// temporary outcomes differ only in their retry time. No event is written:
// the message may be what failed to load. Past the retry age the job is
// still retried at the schedule's last delay, so its real outcome (and
// event) is recorded by an attempt that does not panic.
func (e *Engine) giveBack(chunk []store.Job) {
	now := e.deps.Now()
	var outcomes []store.Outcome
	var ids []int64
	e.mu.Lock()
	for _, j := range chunk {
		if _, ok := e.held[j.ID]; !ok {
			continue
		}
		d := e.cfg.Retry.Decide(errPanicked, j.Attempts, j.CreatedAt, now)
		next := d.Next
		if d.Done {
			next = now.Add(e.cfg.Retry.Schedule[len(e.cfg.Retry.Schedule)-1])
		}
		outcomes = append(outcomes, store.Outcome{JobID: j.ID, NextAttemptAt: next, LastError: lastError(errPanicked)})
		ids = append(ids, j.ID)
	}
	e.mu.Unlock()
	if len(outcomes) == 0 {
		return
	}
	if err := e.deps.Store.Complete(context.WithoutCancel(e.ctx), outcomes); err != nil {
		// No longer held: their leases end and they are claimed again.
		e.deps.Log.Error("give back the jobs of a panicked delivery", "err", err, "jobs", len(outcomes))
	}
	e.drop(ids)
}

// nextWaiting hands the connection slot of a finished connection to the
// next chunk waiting for its destination, or frees the slot.
func (e *Engine) nextWaiting(dest string) []store.Job {
	e.mu.Lock()
	if w := e.waiting[dest]; len(w) > 0 && !e.stopping() {
		chunk := w[0]
		if e.waiting[dest] = w[1:]; len(e.waiting[dest]) == 0 {
			delete(e.waiting, dest)
		}
		e.waitingJobs -= len(chunk)
		e.mu.Unlock()
		return chunk
	}
	e.mu.Unlock()
	e.releaseSlot(dest)
	return nil
}

// releaseWaiting gives back every chunk still waiting (Stop).
func (e *Engine) releaseWaiting() {
	e.mu.Lock()
	var ids []int64
	for _, chunks := range e.waiting {
		for _, c := range chunks {
			for _, j := range c {
				ids = append(ids, j.ID)
			}
		}
	}
	e.waiting, e.waitingJobs = map[string][][]store.Job{}, 0
	e.mu.Unlock()
	e.release(ids)
}

// release gives jobs back to the queue without counting an attempt.
func (e *Engine) release(ids []int64) {
	if len(ids) == 0 {
		return
	}
	e.news.add(nil) // due again now, announced by no accept
	if err := e.deps.Store.ReleaseJobs(context.WithoutCancel(e.ctx), ids, e.deps.Now()); err != nil {
		// Their leases are no longer renewed: they come back when they end.
		e.deps.Log.Error("release jobs", "err", err)
	}
	e.drop(ids)
}

func (e *Engine) hold(jobs []store.Job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range jobs {
		e.held[j.ID] = struct{}{}
	}
}

func (e *Engine) drop(ids []int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		delete(e.held, id)
	}
}

func (e *Engine) heldIDs() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]int64, 0, len(e.held))
	for id := range e.held {
		ids = append(ids, id)
	}
	return ids
}

func (e *Engine) acquire(dest string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active >= e.cfg.Workers || e.busy[dest] >= e.cfg.PerDestination {
		return false
	}
	e.active++
	e.busy[dest]++
	return true
}

func (e *Engine) releaseSlot(dest string) {
	e.mu.Lock()
	e.active--
	if e.busy[dest]--; e.busy[dest] <= 0 {
		delete(e.busy, dest)
	}
	e.mu.Unlock()
	e.Notify()
}
