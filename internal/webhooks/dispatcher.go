package webhooks

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
)

// Config tunes the dispatcher; zero fields take the defaults below.
type Config struct {
	// Timeout bounds one POST, from connecting to reading the answer.
	Timeout time.Duration
	// PerURL is how many POSTs to one URL may be in flight at once.
	PerURL int
	// Batch is how many events or retries one pipeline step takes.
	Batch int
	// Poll is how often the outbox's head is checked for new events (and
	// pipelines look at the clock for due retries).
	Poll time.Duration
	// Lease is how long a pipeline stays reserved to this node; it is
	// renewed every third of it.
	Lease time.Duration
	// Schedule and MaxAge are the retry schedule (docs/mailgun-contract.md §8.5).
	Schedule []time.Duration
	MaxAge   time.Duration
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.PerURL <= 0 {
		c.PerURL = 8
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Poll <= 0 {
		c.Poll = 100 * time.Millisecond
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if len(c.Schedule) == 0 {
		c.Schedule = Schedule
	}
	if c.MaxAge <= 0 {
		c.MaxAge = MaxAge
	}
}

// Deps are the dispatcher's collaborators.
type Deps struct {
	Store store.WebhookStore
	// SigningKey returns the account's HTTP webhook signing key.
	SigningKey func(ctx context.Context) (string, error)
	Now        func() time.Time
	Log        *slog.Logger
	Metrics    *obs.Metrics
	// Client posts; nil means a client of the dispatcher's own that keeps
	// PerURL connections per host alive and follows no redirects.
	Client *http.Client
}

// Dispatcher runs the webhook pipelines this node holds.
type Dispatcher struct {
	cfg   Config
	deps  Deps
	owner string

	life    startstop.Base
	stop    chan struct{}
	mgrDone chan struct{}
	ctx     context.Context // cancelled past Stop's deadline: cuts POSTs
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	pipes   map[pipeKey]*pipeline
	sems    map[string]chan struct{} // per URL
	wake    chan struct{}            // closed and replaced on every tick
	headGen uint64                   // bumped when the outbox head moves
	key     string                   // the signing key, read at keyAt
	keyAt   time.Time

	posts *prometheus.CounterVec
}

type pipeKey struct{ domain, url string }

// New makes a dispatcher; Start runs it.
func New(cfg Config, deps Deps) *Dispatcher {
	cfg.defaults()
	if deps.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 2 * cfg.PerURL
		deps.Client = &http.Client{
			Transport:     t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		cfg: cfg, deps: deps, owner: secret.Token(8),
		stop: make(chan struct{}), mgrDone: make(chan struct{}), ctx: ctx, cancel: cancel,
		pipes: map[pipeKey]*pipeline{}, sems: map[string]chan struct{}{}, wake: make(chan struct{}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salvo_webhook_posts_total",
			Help: "Webhook POSTs by result: ok (2xx), retry (failed, tried again later), dropped (failed, given up).",
		}, []string{"result"}),
	}
	deps.Metrics.Registry.MustRegister(d.posts)
	return d
}

// Start runs the manager loop, which starts a pipeline for every cursor
// this node can lease.
func (d *Dispatcher) Start() {
	if !d.life.StartInit() {
		return
	}
	d.deps.Metrics.Go(d.deps.Log, "webhook manager", d.manage)
}

// Stop stops taking new work, lets the steps in flight finish and record
// their outcome, and gives the pipelines' leases back. Past ctx's
// deadline POSTs in flight are cut (and recorded as due again), and ctx's
// error is returned. Stop before Start returns at once; a second Stop
// waits for the first (startstop).
func (d *Dispatcher) Stop(ctx context.Context) error {
	err := d.life.Stop(ctx, func(ctx context.Context) error {
		close(d.stop)
		<-d.mgrDone
		return startstop.WaitOrCut(ctx, d.wg.Wait, d.cancel)
	})
	d.cancel()
	return err
}

// Rounds is how many times the pipeline of (domain, url) on this node has
// finished its work and waited for more, 0 when it does not run here.
// Tests that move the clock wait for two more rounds to know the pipeline
// has looked at the new time.
func (d *Dispatcher) Rounds(domain, url string) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.pipes[pipeKey{domain, url}]; p != nil {
		return p.rounds.Load()
	}
	return 0
}

func (d *Dispatcher) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// manage checks the outbox head every Poll and wakes the pipelines, and
// every few ticks leases the cursors no node holds.
func (d *Dispatcher) manage() {
	defer close(d.mgrDone)
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	var head store.OutboxPos
	renewed := time.Now()
	for n := 0; ; n++ {
		if n%5 == 0 {
			d.claim()
		}
		if time.Since(renewed) >= d.cfg.Lease/3 {
			d.renew()
			renewed = time.Now()
		}
		h, err := d.deps.Store.OutboxHead(d.ctx)
		if err != nil {
			d.deps.Log.Error("webhooks: read the outbox head", "err", err)
		}
		d.tick(err == nil && h != head)
		if err == nil {
			head = h
		}
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
	}
}

// tick wakes every pipeline; moved says the outbox head changed.
func (d *Dispatcher) tick(moved bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if moved {
		d.headGen++
	}
	close(d.wake)
	d.wake = make(chan struct{})
}

// waiter returns the channel the next tick closes and the head generation.
func (d *Dispatcher) waiter() (<-chan struct{}, uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake, d.headGen
}

// claim leases cursors that are free (or this node's) and starts their
// pipelines.
func (d *Dispatcher) claim() {
	cursors, err := d.deps.Store.WebhookCursors(d.ctx, "")
	if err != nil {
		d.deps.Log.Error("webhooks: list cursors", "err", err)
		return
	}
	now := d.deps.Now()
	for _, c := range cursors {
		key := pipeKey{c.Domain, c.URL}
		d.mu.Lock()
		running := d.pipes[key] != nil
		d.mu.Unlock()
		if running || (c.LeaseOwner != "" && c.LeaseOwner != d.owner && c.LeaseUntil.After(now)) {
			continue
		}
		ok, err := d.deps.Store.LeaseWebhookCursor(d.ctx, c.Domain, c.URL, d.owner, now, now.Add(d.cfg.Lease))
		if err != nil {
			d.deps.Log.Error("webhooks: lease cursor", "domain", c.Domain, "url", c.URL, "err", err)
			continue
		}
		if ok && d.stopping() {
			_ = d.deps.Store.ReleaseWebhookCursor(context.Background(), c.Domain, c.URL, d.owner)
		}
		if !ok || d.stopping() {
			continue
		}
		d.startPipeline(c)
	}
}

// renew extends the leases of the pipelines running here, every third of
// a lease, whatever they are doing (a step posting to a URL that times
// out can take minutes). A pipeline whose lease is gone (another node
// took it after this one stalled, or its URL was removed) is told to stop.
func (d *Dispatcher) renew() {
	d.mu.Lock()
	pipes := make([]*pipeline, 0, len(d.pipes))
	for _, p := range d.pipes {
		pipes = append(pipes, p)
	}
	d.mu.Unlock()
	for _, p := range pipes {
		now := d.deps.Now()
		ok, err := d.deps.Store.LeaseWebhookCursor(d.ctx, p.domain, p.url, d.owner, now, now.Add(d.cfg.Lease))
		if err != nil {
			d.deps.Log.Error("webhooks: renew lease", append(p.log(), "err", err)...)
			continue // again at the next renewal; the lease lasts three
		}
		if !ok {
			p.lost.Store(true)
		}
	}
}

func (d *Dispatcher) startPipeline(c store.WebhookCursor) {
	p := newPipeline(d, c)
	key := pipeKey{c.Domain, c.URL}
	d.mu.Lock()
	d.pipes[key] = p
	d.mu.Unlock()
	d.wg.Add(1)
	d.deps.Metrics.Go(d.deps.Log, "webhook pipeline "+c.URL, func() {
		defer d.wg.Done()
		defer func() {
			d.mu.Lock()
			delete(d.pipes, key)
			d.mu.Unlock()
		}()
		p.run()
	})
}

// sem returns the semaphore of POSTs in flight to url, shared by every
// domain's pipeline of that URL.
func (d *Dispatcher) sem(url string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sems[url]
	if s == nil {
		s = make(chan struct{}, d.cfg.PerURL)
		d.sems[url] = s
	}
	return s
}

// keyMaxAge is how long a read signing key is used before it is read
// again (a regenerated key is used within it).
const keyMaxAge = time.Second

// signingKey returns the account's signing key, read at most every
// keyMaxAge: it sits sealed in the global store.
func (d *Dispatcher) signingKey(ctx context.Context) (string, error) {
	d.mu.Lock()
	key, fresh := d.key, time.Since(d.keyAt) < keyMaxAge
	d.mu.Unlock()
	if fresh {
		return key, nil
	}
	key, err := d.deps.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.key, d.keyAt = key, time.Now()
	d.mu.Unlock()
	return key, nil
}
