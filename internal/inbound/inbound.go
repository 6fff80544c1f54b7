// Package inbound is the MX that runs routes (docs/mailgun-contract.md §6): SMTP sessions
// that receive mail for this region's domains, a durable queue, and
// workers that check SPF and DKIM, evaluate the routes and carry out their
// actions.
//
// The path of a received message, and its promises:
//  1. RCPT is accepted only for a domain this region serves (550 5.7.1
//     otherwise: never an open relay; another region's domains are not in
//     this region's store and are refused like unknown ones).
//  2. DATA is answered 250 only once the message and its "route" job are
//     durable (one group-committed transaction). Nothing slow happens
//     before that: no DNS, no route targets.
//  3. A worker runs the route job: usually straight from memory, the job
//     having been leased to this node in the receive transaction (the
//     fast path, worker.go), else claimed from the store with a lease like
//     delivery jobs. It checks SPF and DKIM and records them in the
//     message's headers (SPF results cached a minute), evaluates
//     the routes for each recipient, and in one transaction writes the
//     follow-up jobs (a POST per URL forward and store notification, a
//     re-send per address forward), the stored copies of store() actions
//     with their stored events, and an accepted event per recipient.
//  4. POST jobs are signed like webhooks and retried on webhooks.Schedule
//     for up to webhooks.MaxAge; 2xx is done, 406 stops at once. Each
//     outcome is an event (delivered, or failed temporary/permanent).
//     Forward jobs go through send.Service.Send with an idempotency key,
//     so a crash between the send and the job's completion never sends
//     twice.
//  5. The received message is removed in the transaction that finishes
//     the last job that needs it; stored copies live in the messages table
//     with the domain's retention, like outgoing messages.
//
// A job that panics is recovered at the unit of work (runSafely): the
// panic is counted, the job is retried on the schedule, and the worker
// goes on; the pool never shrinks.
package inbound

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/startstop"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/verp"
)

// Config tunes the MX and its workers.
type Config struct {
	Hostname string
	// MaxRecipients bounds RCPTs per message (RFC 5321 §4.5.3.1.8: 100).
	MaxRecipients int
	// Workers run jobs at once; PerHost bounds POSTs at once to one host.
	Workers int
	PerHost int
	Lease   time.Duration
	// ForwardTimeout bounds one POST.
	ForwardTimeout time.Duration
	// Retention keeps stored copies when the domain sets no message_ttl.
	Retention time.Duration
	// PollInterval bounds how long the workers sleep without being woken.
	PollInterval time.Duration
	// Schedule and MaxAge are the retry delays and the give-up age of POST
	// and forward jobs (webhooks.Schedule and webhooks.MaxAge by default).
	Schedule []time.Duration
	MaxAge   time.Duration
}

// Deps are the MX's collaborators; every one is a seam for tests.
type Deps struct {
	Store    store.Regional
	Send     *send.Service
	Keys     *auth.Keys
	Resolver dns.Resolver
	// HTTP posts route forwards (a client with ForwardTimeout by default).
	HTTP    *http.Client
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *obs.Metrics
	// Unsubscribes handles mail to unsubscribe addresses (nil: none).
	Unsubscribes Unsubscriber
	// Bounces checks bounce addresses (the MAIL FROM of sent copies); nil:
	// bounce addresses are routed like any other address.
	Bounces *verp.Signer
	// Subaccounts tells whether a subaccount's domain may send: the
	// forwards and list posts of a disabled subaccount are not sent
	// (forward.go). nil: every domain is the primary account's.
	Subaccounts store.SubaccountStore
}

// Unsubscriber handles mail to the unsubscribe addresses tracking hands
// out (%unsubscribe_email%, the mailto: of List-Unsubscribe, RFC 2369);
// package tracking implements it.
type Unsubscriber interface {
	// IsUnsubscribeAddress reports whether rcpt is a valid unsubscribe
	// address of this node.
	IsUnsubscribeAddress(ctx context.Context, rcpt string) bool
	// UnsubscribeByMail unsubscribes the recipient rcpt names.
	UnsubscribeByMail(ctx context.Context, rcpt string) error
}

// Service is the inbound MX: an smtp.Backend and the route workers.
type Service struct {
	cfg  Config
	deps Deps
	// PublicURL is the base of message-url and storage URLs; set before Start.
	PublicURL string

	owner   string
	bounces *verp.Signer
	domains *domainCache
	routes  routesCache
	spf     spfCache

	life   startstop.Base
	tasks  chan task
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	beat   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	claimed int // claimed tasks queued or running (at most Workers)
	fast    int // fast-path tasks reserved, queued or running
	hosts   map[string]int
	wg      sync.WaitGroup
}

// New makes the service; Start runs its workers.
func New(cfg Config, deps Deps) *Service {
	if cfg.MaxRecipients == 0 {
		cfg.MaxRecipients = 100
	}
	if cfg.PerHost == 0 {
		cfg.PerHost = 4
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if deps.HTTP == nil {
		deps.HTTP = &http.Client{Timeout: cfg.ForwardTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, deps: deps, owner: secret.Token(8), bounces: deps.Bounces, domains: newDomainCache(deps.Store),
		tasks: make(chan task, cfg.Workers+fastSlots), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), beat: make(chan struct{}),
		ctx: ctx, cancel: cancel, hosts: map[string]int{}}
}

// Notify wakes the workers (a message arrived, or time moved).
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the workers, the claim loop and the lease heartbeat.
func (s *Service) Start() {
	if !s.life.StartInit() {
		return
	}
	for range s.cfg.Workers {
		s.wg.Add(1)
		s.deps.Metrics.Go(s.deps.Log, "inbound worker", s.worker)
	}
	s.deps.Metrics.Go(s.deps.Log, "inbound loop", s.loop)
	s.deps.Metrics.Go(s.deps.Log, "inbound lease heartbeat", s.heartbeat)
}

// Stop stops claiming and lets jobs in flight finish until ctx ends; then
// their contexts are cancelled (their leases run out and they come
// back) and ctx's error is returned. Jobs no worker started are given
// back at once. Stop before Start returns at once; a second Stop waits
// for the first (startstop).
func (s *Service) Stop(ctx context.Context) error {
	return s.life.Stop(ctx, s.stopRunning)
}

func (s *Service) stopRunning(ctx context.Context) error {
	s.mu.Lock() // no fast slot is reserved from now on (reserveFast checks stop)
	close(s.stop)
	s.mu.Unlock()
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	err := startstop.WaitOrCut(ctx, s.wg.Wait, s.cancel)
	s.releaseQueued()
	s.cancel()
	<-s.beat
	return err
}
