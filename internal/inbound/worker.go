package inbound

import (
	"net/url"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

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
		free := s.cfg.Workers - s.active
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
		for _, j := range jobs {
			s.mu.Lock()
			s.active++
			s.mu.Unlock()
			s.wg.Add(1)
			s.deps.Metrics.Go(s.deps.Log, "inbound "+j.Kind, func() {
				defer s.wg.Done()
				defer s.release()
				s.run(j)
			})
		}
	}
}

func (s *Service) release() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
	s.Notify()
}

// heartbeat renews the leases of the jobs in flight every third of a
// lease, so a slow route target does not get its POST sent twice.
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
func (s *Service) run(j store.InboundJob) {
	var res store.InboundResult
	switch j.Kind {
	case store.InboundRoute:
		res = s.routeJob(j)
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
