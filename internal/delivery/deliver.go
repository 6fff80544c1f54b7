package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// work is a job with its loaded message.
type work struct {
	job store.Job
	msg *loaded
}

// deliver carries one chunk of jobs for one destination over one SMTP
// session, recording each outcome as soon as it is known.
func (e *Engine) deliver(dest string, jobs []store.Job) {
	ctx := e.ctx
	if ok, why := e.admit(dest, e.deps.Now()); !ok {
		e.deferChunk(ctx, jobs, why)
		return
	}
	txns := e.prepare(ctx, jobs)
	if len(txns) == 0 {
		return
	}
	if e.cfg.Capture {
		e.capture(txns) // capture.go: nothing is dialled
		return
	}
	hosts, err := e.resolve(ctx, dest)
	if err != nil {
		e.failAll(txns, Classify(err))
		return
	}
	var cn *conn
	var sl slot // cn's hold on its shaping group's connections
	hangUp := func() {
		if cn != nil {
			cn.close()
			cn = nil
		}
		sl.free()
	}
	defer hangUp()
	for i, t := range txns {
		if e.stopping() {
			e.releaseTxns(txns[i:])
			return
		}
		src := e.source(ctx, t.msgs[0], cn)
		if cn != nil && (cn.src.Addr != src.Addr || sl.full()) {
			hangUp() // this copy leaves from another address, or the session carried its share
		}
		key, lim := e.shapeKey(hosts, dest, src)
		if ok, at := e.take(key, lim); !ok {
			hangUp()
			e.postpone(txns[i:], at, key.String())
			return
		}
		if cn == nil {
			release, ok := e.shaper.Acquire(ctx, key, lim, e.stop)
			if !ok {
				e.releaseTxns(txns[i:])
				return
			}
			if cn, err = e.connect(withTimeouts(ctx, lim), hosts, src); err != nil {
				release()
				if ctx.Err() == nil {
					e.connectFailed(dest, e.deps.Now(), err)
				}
				r := sessionFailure(Classify(err))
				r.Unreachable, r.Command = true, CmdConnect
				e.failAll(txns[i:], r)
				return
			}
			sl = slot{key: key, lim: lim, release: release}
			if d := e.commandTimeout(withTimeouts(ctx, lim)); d > 0 {
				cn.c.CommandTimeout, cn.c.SubmissionTimeout = d, d
			}
			e.connected(dest)
		}
		if r, refuse := tlsPolicy(cn, t.msgs[0]); refuse {
			e.record(t, repeat(r, len(t.jobs)))
			continue
		}
		results, usable := cn.send(&t.txn)
		sl.sent++
		e.shapedBy(&sl, results)
		// The destination backs off before the outcome is visible, so mail
		// sent in reply to the failure already waits.
		throttled := e.throttledBy(dest, results)
		e.record(t, results)
		if throttled {
			e.deferRest(dest, txns[i+1:])
			return
		}
		if !usable {
			cn.c.Close()
			cn = nil
			sl.free()
		}
	}
}

// deferChunk records the jobs of a destination that is down as deferred,
// in one write, without rendering or signing their copies (health.go).
// What needs no connection is settled as prepare does.
func (e *Engine) deferChunk(ctx context.Context, jobs []store.Job, why string) {
	p := &pending{}
	for _, j := range e.screen(ctx, jobs) {
		l, err := e.load(ctx, j)
		if err != nil {
			r := Result{Kind: Temporary, Code: 451, Message: "local error: " + err.Error(), Reason: events.ReasonGeneric}
			if errors.Is(err, store.ErrNotFound) {
				r = Result{Kind: Permanent, Code: 550, Message: "message no longer stored", Reason: events.ReasonGeneric}
			}
			e.recordLoose(j, nil, r)
			continue
		}
		if l.meta.Options.TestMode {
			e.recordLoose(j, l, Result{Kind: Delivered, Code: 650, Message: "OK"})
			continue
		}
		p.jobs, p.msgs = append(p.jobs, j), append(p.msgs, l)
	}
	if len(p.jobs) > 0 {
		e.record(p, repeat(deferred(why), len(p.jobs)))
	}
}

// pending is a transaction with the loaded message of each job.
type pending struct {
	txn
	msgs []*loaded
}

// prepare loads the jobs' messages, settles what needs no connection
// (recipients suppressed since accept, test mode, unloadable messages) and groups the rest into transactions: one
// per message when every recipient gets the same content, one per
// recipient for personalised (batch) messages.
func (e *Engine) prepare(ctx context.Context, jobs []store.Job) []*pending {
	var out []*pending
	byKey := map[string]*pending{}
	jobs = e.screen(ctx, jobs)
	if e.deps.Prefetch {
		e.prefetch(ctx, jobs)
	}
	for _, j := range jobs {
		l, err := e.load(ctx, j)
		if err != nil {
			e.deps.Log.Error("cannot load message for delivery", "msg_key", j.MessageKey, "domain", j.Domain, "err", err)
			r := Result{Kind: Temporary, Code: 451, Message: "local error: " + err.Error(), Reason: events.ReasonGeneric}
			if errors.Is(err, store.ErrNotFound) {
				r = Result{Kind: Permanent, Code: 550, Message: "message no longer stored", Reason: events.ReasonGeneric}
			}
			e.recordLoose(j, nil, r)
			continue
		}
		if l.meta.Options.TestMode {
			e.record(&pending{txn: txn{jobs: []store.Job{j}}, msgs: []*loaded{l}},
				[]Result{{Kind: Delivered, Code: 650, Message: "OK"}})
			continue
		}
		from := e.sender(l, j)
		if p := byKey[j.MessageKey]; p != nil && p.from == from && !l.personal() {
			p.jobs = append(p.jobs, j)
			p.msgs = append(p.msgs, l)
			continue
		}
		body, err := l.body(j)
		if err != nil {
			e.recordLoose(j, l, Result{Kind: Permanent, Code: 550, Message: err.Error(), Reason: events.ReasonGeneric})
			continue
		}
		p := &pending{txn: txn{from: from, jobs: []store.Job{j}, body: body}, msgs: []*loaded{l}}
		out = append(out, p)
		if !l.personal() {
			byKey[j.MessageKey] = p
		}
	}
	for _, p := range out {
		p.utf8 = needsUTF8(p.from, p.jobs)
	}
	return out
}

// tlsPolicy refuses a transaction whose message requires TLS (o:require-tls
// or the domain's require_tls) on a session without it, or with an
// unverified certificate unless verification is skipped.
func tlsPolicy(cn *conn, l *loaded) (Result, bool) {
	o := l.meta.Options
	if !o.RequireTLS {
		return Result{}, false
	}
	r := Result{Kind: Temporary, Code: 421, EnhancedCode: "4.7.10", Reason: events.ReasonGeneric, MXHost: cn.host.name, TLS: cn.tls, Verified: cn.verified,
		SendingIP: cn.sendingIP()}
	switch {
	case !cn.tls:
		r.Message = "TLS is required but " + cn.host.name + " does not offer STARTTLS"
		return r, true
	case !cn.verified && !o.SkipVerification:
		r.Message = "TLS is required but the certificate of " + cn.host.name + " could not be verified"
		return r, true
	}
	return Result{}, false
}

func repeat(r Result, n int) []Result {
	out := make([]Result, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func (e *Engine) failAll(ps []*pending, r Result) {
	for _, p := range ps {
		e.record(p, repeat(r, len(p.jobs)))
	}
}

func (e *Engine) releaseTxns(ps []*pending) {
	var ids []int64
	for _, p := range ps {
		for _, j := range p.jobs {
			ids = append(ids, j.ID)
		}
	}
	e.release(ids)
}

// recordLoose records the outcome of a job outside any transaction.
func (e *Engine) recordLoose(j store.Job, l *loaded, r Result) {
	e.record(&pending{txn: txn{jobs: []store.Job{j}}, msgs: []*loaded{l}}, []Result{r})
}

// record writes the outcomes of a transaction's jobs, each with its event.
func (e *Engine) record(p *pending, results []Result) {
	now := e.deps.Now()
	outcomes := make([]store.Outcome, 0, len(p.jobs))
	for i, j := range p.jobs {
		r := results[i]
		d := e.cfg.Retry.Decide(r, j.Attempts, j.CreatedAt, now)
		o := store.Outcome{JobID: j.ID, Done: d.Done, NextAttemptAt: d.Next, LastError: lastError(r),
			Bounce: bounceOf(j, r, d, now)}
		if l := p.msgs[i]; l != nil {
			o.Events = []store.Event{e.event(l, j, r, d, now)}
		}
		outcomes = append(outcomes, o)
		e.deps.Log.Debug("delivery attempt", "msg_id", j.MessageKey, "domain", j.Domain, "rcpt_domain", j.RcptDomain,
			"attempt", j.Attempts, "mx", r.MXHost, "outcome", r.Kind.String(), "code", r.Code, "command", r.Command,
			"sending_ip", r.SendingIP)
	}
	e.complete(outcomes)
}

// complete writes outcomes in the background, at most cap(e.recording)
// writes at once: the connection goes on while the commit is in flight
// (concurrent writes share one group commit). After a crash, only
// deliveries whose outcome was still in flight can be made again.
func (e *Engine) complete(outcomes []store.Outcome) {
	ids := make([]int64, len(outcomes))
	for i, o := range outcomes {
		ids[i] = o.JobID
	}
	e.recording <- struct{}{}
	e.recordings.Add(1)
	e.deps.Metrics.Go(e.deps.Log, "delivery outcomes", func() {
		defer e.recordings.Done()
		defer func() { <-e.recording }()
		if err := e.deps.Store.Complete(context.WithoutCancel(e.ctx), outcomes); err != nil {
			// No longer held: their leases end and they are tried again.
			e.deps.Log.Error("record delivery outcomes", "err", err, "jobs", len(outcomes))
		}
		e.drop(ids)
	})
}

func lastError(r Result) string {
	if r.Kind == Delivered {
		return ""
	}
	s := fmt.Sprintf("%d %s %s", r.Code, r.EnhancedCode, r.Message)
	if r.Unreachable && !strings.HasPrefix(s, deferMarker) {
		s = deferMarker + ": " + s // found by ReleaseDeferred
	}
	return s
}

// sender is the envelope sender (MAIL FROM) of j's copy: its own bounce
// address (package verp), so that a bounce or complaint that comes back
// names the message and the recipient; the message's sender when no
// bounce address can be made.
func (e *Engine) sender(l *loaded, j store.Job) string {
	if e.bounces == nil || l.msg.Sender == "" {
		return l.msg.Sender
	}
	if a := e.bounces.Address(j.MessageKey, l.msg.Domain, j.Recipient); a != "" {
		return a
	}
	return l.msg.Sender
}

// event builds the delivered or failed event of one outcome.
func (e *Engine) event(l *loaded, j store.Job, r Result, d Decision, now time.Time) store.Event {
	mi := l.meta.InfoFor(j.Recipient)
	if from := e.sender(l, j); from != mi.Sender || r.SendingIP != "" {
		own := *mi
		own.Sender, own.SendingIP = from, r.SendingIP
		mi = &own
	}
	uv := l.meta.UserVarsForJob(j.Recipient, j.Vars)
	ds := mgapi.DeliveryStatus{
		Code: r.Code, Message: r.Message, Description: describe(r), EnhancedCode: r.EnhancedCode,
		MXHost: r.MXHost, AttemptNo: j.Attempts, TLS: r.TLS, CertificateVerified: r.Verified, UTF8: r.UTF8,
		SessionSeconds: r.Session.Seconds(), TLSPolicy: r.TLSPolicy, TLSPolicyReport: r.TLSPolicyReport,
	}
	if d.Event == events.Delivered {
		if r.Code == 650 {
			ds.Description = "Test mode: the message was not sent"
		}
		return events.NewDelivered(mi, j.Recipient, uv, ds, now)
	}
	if d.Reason == events.ReasonOld {
		ds.Message, ds.Description = "Too old", "Too old: gave up retrying; last reply: "+r.Message
	}
	if d.Severity == events.Temporary {
		ds.RetrySeconds = int(d.Retry / time.Second)
	}
	return events.NewFailed(mi, j.Recipient, uv, d.Severity, d.Reason, ds, now)
}
