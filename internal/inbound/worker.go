package inbound

import (
	"context"
	"net/url"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Work reaches the Workers goroutines two ways, both through s.tasks:
//   - the fast path: the MX leases a message's route job to this node in
//     the very transaction that receives it (when a fast slot is free), and
//     hands the message over in memory: no claim, no read back;
//   - claims: the loop leases due jobs from the store (retries, follow-up
//     jobs, and anything another node or a restart left), at most Workers
//     at a time.
//
// Leases of both are renewed by the heartbeat while they wait or run; a
// node that dies leaves them to expire and be claimed elsewhere.

// task is one job to run; msg is set on the fast path.
type task struct {
	job  store.InboundJob
	msg  *store.InboundMessage
	fast bool
}

// fastSlots bounds the received messages waiting in memory for a worker.
const fastSlots = 1024

// reserveFast takes a fast slot for a message about to be received.
func (s *Service) reserveFast() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fast >= fastSlots || s.stopping() {
		return false
	}
	s.fast++
	return true
}

// unreserveFast gives back a slot whose message was not received.
func (s *Service) unreserveFast() {
	s.mu.Lock()
	s.fast--
	s.mu.Unlock()
}

// handOver queues a received message whose route job it leased (its slot
// is reserved, so the channel has room).
func (s *Service) handOver(m store.InboundMessage, jobID int64) {
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	s.tasks <- task{fast: true, msg: &m, job: store.InboundJob{ID: jobID, Kind: store.InboundRoute, MessageKey: m.Key,
		Domain: m.Domain, Payload: []byte("{}"), Attempts: 1, NextAttemptAt: m.ReceivedAt, CreatedAt: m.ReceivedAt}}
}

// worker runs tasks until Stop.
func (s *Service) worker() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case t := <-s.tasks:
			s.runSafely(t)
			s.mu.Lock()
			if t.fast {
				s.fast--
			} else {
				s.claimed--
			}
			s.mu.Unlock()
			s.Notify()
		}
	}
}

// runSafely runs one task, the unit of work: a panic in it is recovered
// and counted (obs), and its job goes back as a temporary failure on the
// retry schedule (giveBack), so the worker lives on, the pool keeps its
// size and the job's lease is not renewed forever. Slots taken with defer
// (a POST's host slot) are freed while the panic unwinds.
func (s *Service) runSafely(t task) {
	defer func() {
		if v := recover(); v != nil {
			s.deps.Metrics.Recovered(s.deps.Log, "inbound "+t.job.Kind+" job", v)
			s.giveBack(t.job)
		}
	}()
	s.run(t)
}

// giveBack finishes a job whose run panicked as a temporary failure,
// retried on the schedule; past the schedule it is given up, like a
// target that keeps failing.
func (s *Service) giveBack(j store.InboundJob) {
	res := store.InboundResult{JobID: j.ID, MessageKey: j.MessageKey, LastError: "internal error while running the job",
		NextAttemptAt: s.retryAt(j.CreatedAt, j.Attempts)}
	if res.Done = res.NextAttemptAt.IsZero(); res.Done {
		s.deps.Log.Error("inbound job panicked on its last attempt; given up", "job", j.ID, "kind", j.Kind, "msg_id", j.MessageKey)
	}
	if err := s.deps.Store.FinishInbound(context.WithoutCancel(s.ctx), []store.InboundResult{res}); err != nil {
		// Its lease is renewed until Stop, then it expires and is claimed again.
		s.deps.Log.Error("give back a panicked inbound job", "job", j.ID, "err", err)
	}
}

// releaseQueued gives back the leases of tasks no worker started, so
// another node (or the next start) takes them at once.
func (s *Service) releaseQueued() {
	var ids []int64
	for {
		select {
		case t := <-s.tasks:
			ids = append(ids, t.job.ID)
			continue
		default:
		}
		break
	}
	if len(ids) > 0 {
		if err := s.deps.Store.ReleaseInbound(context.Background(), ids, s.deps.Now()); err != nil {
			s.deps.Log.Error("release queued inbound jobs", "err", err)
		}
	}
}

// loop claims due jobs while workers are free, then sleeps until the next
// job is due, it is woken, or PollInterval passed.
func (s *Service) loop() {
	defer close(s.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
		s.claimAll()
		timer.Reset(s.sleepFor())
	}
}

func (s *Service) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *Service) sleepFor() time.Duration {
	next, err := s.deps.Store.NextInboundDue(s.ctx)
	if err != nil || next.IsZero() {
		return s.cfg.PollInterval
	}
	d := next.Sub(s.deps.Now())
	if d <= 0 {
		return s.cfg.PollInterval
	}
	return min(max(d, 10*time.Millisecond), s.cfg.PollInterval)
}

func (s *Service) claimAll() {
	for !s.stopping() {
		s.mu.Lock()
		free := s.cfg.Workers - s.claimed
		s.mu.Unlock()
		if free <= 0 {
			return
		}
		jobs, err := s.deps.Store.ClaimInbound(s.ctx, store.Claim{Now: s.deps.Now(), Lease: s.cfg.Lease, Owner: s.owner, Limit: free})
		if err != nil {
			if s.ctx.Err() == nil {
				s.deps.Log.Error("claim inbound jobs", "err", err)
			}
			return
		}
		if len(jobs) == 0 {
			return
		}
		s.mu.Lock()
		s.claimed += len(jobs)
		s.mu.Unlock()
		for _, j := range jobs {
			s.tasks <- task{job: j}
		}
	}
}

// heartbeat renews the leases of the jobs waiting or in flight every third
// of a lease, so a slow route target does not get its POST sent twice.
func (s *Service) heartbeat() {
	defer close(s.beat)
	t := time.NewTicker(max(s.cfg.Lease/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if err := s.deps.Store.RenewInboundLeases(s.ctx, s.owner, s.deps.Now().Add(s.cfg.Lease)); err != nil && s.ctx.Err() == nil {
			s.deps.Log.Error("renew inbound leases", "err", err)
		}
	}
}

// run carries out one job and records its result.
func (s *Service) run(t task) {
	j := t.job
	var res store.InboundResult
	switch j.Kind {
	case store.InboundRoute:
		res = s.routeJob(j, t.msg)
	case store.InboundPost:
		var ran bool
		if res, ran = s.postJob(j); !ran {
			// Its host is at its limit: give it back, due in a moment.
			if err := s.deps.Store.ReleaseInbound(s.ctx, []int64{j.ID}, s.deps.Now().Add(250*time.Millisecond)); err != nil && s.ctx.Err() == nil {
				s.deps.Log.Error("release inbound job", "job", j.ID, "err", err)
			}
			return
		}
	case store.InboundForward:
		res = s.forwardJob(j)
	default:
		s.deps.Log.Error("inbound job of an unknown kind; dropped", "kind", j.Kind, "job", j.ID)
		res = store.InboundResult{Done: true}
	}
	res.JobID, res.MessageKey = j.ID, j.MessageKey
	if err := s.deps.Store.FinishInbound(s.ctx, []store.InboundResult{res}); err != nil && s.ctx.Err() == nil {
		s.deps.Log.Error("finish inbound job", "job", j.ID, "kind", j.Kind, "err", err)
	}
}

// retryAt is when attempt n (1-based) of a job created at created is
// tried again, or zero when it is time to give up.
func (s *Service) retryAt(created time.Time, attempt int) time.Time {
	now := s.deps.Now()
	if attempt < 1 || attempt > len(s.cfg.Schedule) {
		return time.Time{}
	}
	next := now.Add(s.cfg.Schedule[attempt-1])
	if next.Sub(created) > s.cfg.MaxAge {
		return time.Time{}
	}
	return next
}

// acquireHost takes a slot for a POST to u's host; false when the host is
// at its limit.
func (s *Service) acquireHost(u string) (string, bool) {
	host := u
	if p, err := url.Parse(u); err == nil {
		host = p.Host
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hosts[host] >= s.cfg.PerHost {
		return host, false
	}
	s.hosts[host]++
	return host, true
}

func (s *Service) releaseHost(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hosts[host]--; s.hosts[host] <= 0 {
		delete(s.hosts, host)
	}
}
