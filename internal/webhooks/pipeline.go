package webhooks

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// errLost ends a pipeline: its lease went to another node, or its URL was
// removed from the domain's webhooks (and maybe added again: a cursor that
// is not where the pipeline left it is not its own).
var errLost = errors.New("webhooks: pipeline lease lost")

// pipeline is one (domain, URL) outbox reader; see the package doc.
type pipeline struct {
	d           *Dispatcher
	domain, url string
	pos         store.OutboxPos
	// seenGen is the outbox head generation up to which the pipeline has
	// read everything; while it equals the dispatcher's, there is nothing
	// new.
	seenGen   uint64
	fresh     bool      // nothing read yet: read whatever the head says
	nextRetry time.Time // earliest due retry, zero when none
	rounds    atomic.Uint64
	// lost is set by the dispatcher's heartbeat when the lease could not
	// be renewed.
	lost atomic.Bool
}

func newPipeline(d *Dispatcher, c store.WebhookCursor) *pipeline {
	return &pipeline{d: d, domain: c.Domain, url: c.URL, pos: c.Pos, fresh: true}
}

func (p *pipeline) log() []any { return []any{"domain", p.domain, "url", p.url} }

// run steps the pipeline until Stop or until it is lost, then gives its
// lease back (unless lost).
func (p *pipeline) run() {
	d := p.d
	if err := p.loadNextRetry(); err != nil {
		d.deps.Log.Error("webhooks: read retries", append(p.log(), "err", err)...)
	}
	err := p.loop()
	if errors.Is(err, errLost) {
		d.deps.Log.Info("webhooks: pipeline stopped here: lease lost or URL removed", p.log()...)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.deps.Store.ReleaseWebhookCursor(ctx, p.domain, p.url, d.owner); err != nil {
		d.deps.Log.Error("webhooks: release cursor", append(p.log(), "err", err)...)
	}
}

func (p *pipeline) loop() error {
	d := p.d
	for !d.stopping() {
		wake, gen := d.waiter()
		if p.lost.Load() {
			return errLost
		}
		worked := false
		if !p.nextRetry.IsZero() && !d.deps.Now().Before(p.nextRetry) {
			if err := p.stepRetries(); err != nil {
				return p.fail("retries", err)
			}
			worked = true
		}
		if p.fresh || gen != p.seenGen {
			more, err := p.stepNew()
			if err != nil {
				return p.fail("new events", err)
			}
			p.fresh = false
			if !more {
				p.seenGen = gen
			}
			worked = true
		}
		if worked && !d.stopping() {
			continue
		}
		p.rounds.Add(1)
		select {
		case <-d.stop:
		case <-wake:
		}
	}
	return nil
}

// fail returns errLost as is; other errors are logged and the pipeline
// ends, giving its lease back so that it starts again at the next claim.
func (p *pipeline) fail(step string, err error) error {
	if errors.Is(err, errLost) {
		return err
	}
	if p.d.ctx.Err() != nil {
		return nil // Stop cut the step short
	}
	p.d.deps.Log.Error("webhooks: pipeline step failed; restarting it", append(p.log(), "step", step, "err", err)...)
	return nil
}

// stepNew posts the next batch of new events and moves the cursor past
// it. more says the batch was full.
func (p *pipeline) stepNew() (more bool, err error) {
	d := p.d
	evs, err := d.deps.Store.OutboxEvents(d.ctx, p.domain, p.pos, d.cfg.Batch)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	kinds, err := p.kinds()
	if err != nil {
		return false, err
	}
	var jobs []*attempt
	for _, e := range evs {
		if k := KindOf(e.Type, e.Severity); kinds[k] {
			jobs = append(jobs, &attempt{seq: e.Seq, id: e.ID, kind: k, data: e.Data})
		}
	}
	from, end := p.pos, evs[len(evs)-1].Pos()
	b := store.WebhookBatch{Domain: p.domain, URL: p.url, Owner: d.owner, From: &from, Advance: &end}
	p.postAll(jobs, &b)
	if err := p.record(b); err != nil {
		return false, err
	}
	p.pos = end
	return len(evs) == d.cfg.Batch, nil
}

// stepRetries posts the retries that are due.
func (p *pipeline) stepRetries() error {
	d := p.d
	rs, err := d.deps.Store.WebhookRetries(d.ctx, p.domain, p.url, d.deps.Now(), d.cfg.Batch)
	if err != nil {
		return err
	}
	kinds, err := p.kinds()
	if err != nil {
		return err
	}
	b := store.WebhookBatch{Domain: p.domain, URL: p.url, Owner: d.owner}
	var jobs []*attempt
	for _, r := range rs {
		if r.Data == nil || !kinds[r.Kind] {
			// The event is gone (past retention: given up), or the URL no
			// longer takes its kind.
			b.Done = append(b.Done, r.EventSeq)
			if r.Data == nil {
				b.Dropped++
			}
			continue
		}
		jobs = append(jobs, &attempt{seq: r.EventSeq, id: r.EventID, kind: r.Kind, data: r.Data, retry: &r})
	}
	p.postAll(jobs, &b)
	if err := p.record(b); err != nil {
		return err
	}
	return p.loadNextRetry()
}

// record writes a step's batch; the step's retries change nextRetry.
func (p *pipeline) record(b store.WebhookBatch) error {
	// Record even when Stop's deadline cut the POSTs: what was posted must
	// not be posted again.
	err := p.d.deps.Store.RecordWebhookBatch(context.Background(), b)
	if errors.Is(err, store.ErrNotFound) {
		return errLost
	}
	if err != nil {
		return err
	}
	for _, r := range b.Retry {
		if p.nextRetry.IsZero() || r.NextAttemptAt.Before(p.nextRetry) {
			p.nextRetry = r.NextAttemptAt
		}
	}
	return nil
}

// loadNextRetry reads when the earliest retry is due.
func (p *pipeline) loadNextRetry() error {
	d := p.d
	rs, err := d.deps.Store.WebhookRetries(d.ctx, p.domain, p.url, time.Time{}, 1)
	if err != nil {
		return err
	}
	p.nextRetry = time.Time{}
	if len(rs) > 0 {
		p.nextRetry = rs[0].NextAttemptAt
	}
	return nil
}

// kinds returns the kinds the pipeline's URL is subscribed to.
func (p *pipeline) kinds() (map[string]bool, error) {
	set, err := p.d.deps.Store.Webhooks(p.d.ctx, p.domain)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k, urls := range set {
		for _, u := range urls {
			if u == p.url {
				out[k] = true
			}
		}
	}
	return out, nil
}

// postAll posts jobs, at most PerURL at once, and folds the outcomes into b.
func (p *pipeline) postAll(jobs []*attempt, b *store.WebhookBatch) {
	if len(jobs) == 0 {
		return
	}
	d := p.d
	key, err := d.signingKey(d.ctx)
	if err != nil {
		// Without the key nothing can be signed: every POST fails alike.
		for _, a := range jobs {
			a.res = result{at: d.deps.Now(), err: err}
		}
	} else {
		sem := d.sem(p.url)
		var wg sync.WaitGroup
		for _, a := range jobs {
			select {
			case sem <- struct{}{}:
			case <-d.ctx.Done():
				a.res = result{at: d.deps.Now(), err: d.ctx.Err(), cut: true}
				continue
			}
			wg.Add(1)
			d.deps.Metrics.Go(d.deps.Log, "webhook post", func() {
				defer wg.Done()
				defer func() { <-sem }()
				a.res = d.post(d.ctx, p.url, []byte(key), a.data)
			})
		}
		wg.Wait()
	}
	for _, a := range jobs {
		p.fold(a, b)
	}
}
