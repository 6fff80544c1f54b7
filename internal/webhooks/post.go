package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/salvo-email/salvo/internal/store"
)

// attempt is one event to POST in a pipeline step.
type attempt struct {
	seq      int64
	id, kind string
	data     []byte
	retry    *store.WebhookRetry // nil for a first attempt
	res      result
}

// result is the outcome of one POST.
type result struct {
	at     time.Time // when it was made
	status int       // HTTP status, 0 without an answer
	err    error     // transport error or timeout
	body   string    // start of the answer, for the attempts view
	cut    bool      // cut by Stop's deadline: not an attempt
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// describe is the result as the attempts view shows it.
func (r result) describe() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.ok():
		return ""
	case r.body != "":
		return fmt.Sprintf("HTTP %d: %s", r.status, r.body)
	default:
		return fmt.Sprintf("HTTP %d", r.status)
	}
}

// Body is the JSON a webhook POSTs (docs/mailgun-contract.md §8.4): the signature and the event
// exactly as the Events API shows it (data is the stored event JSON).
func Body(sig Signature, data []byte) []byte {
	s, _ := json.Marshal(sig) // three strings: cannot fail
	var b bytes.Buffer
	b.Grow(len(s) + len(data) + 32)
	b.WriteString(`{"signature":`)
	b.Write(s)
	b.WriteString(`,"event-data":`)
	b.Write(data)
	b.WriteByte('}')
	return b.Bytes()
}

// post makes one signed POST of event data to url.
func (d *Dispatcher) post(ctx context.Context, url string, key, data []byte) result {
	now := d.deps.Now()
	res := result{at: now}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(Body(Sign(key, now), data)))
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "salvo-webhooks")
	resp, err := d.deps.Client.Do(req)
	if err != nil {
		res.err, res.cut = postError(err, d.cfg.Timeout), d.ctx.Err() != nil
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if !res.ok() {
		res.body = printable(head)
	}
	return res
}

func postError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return err
}

// printable keeps valid, printable text of an answer's start.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Retryable reports whether a failed POST of kind answered status is
// tried again (docs/mailgun-contract.md §8.5): not after 406 Not Acceptable, and never for
// delivered events.
func Retryable(kind string, status int) bool {
	return status != http.StatusNotAcceptable && kind != "delivered"
}

// NextAttempt is when to try again after the attempts-th attempt, made at
// last, failed; the first attempt was made at first. ok is false when the
// schedule is over: the next attempt would come more than maxAge after
// the first.
func NextAttempt(schedule []time.Duration, maxAge time.Duration, attempts int, first, last time.Time) (next time.Time, ok bool) {
	if attempts < 1 || len(schedule) == 0 {
		return time.Time{}, false
	}
	next = last.Add(schedule[min(attempts, len(schedule))-1])
	return next, next.Sub(first) <= maxAge
}

// fold adds an attempt's outcome to its step's batch.
func (p *pipeline) fold(a *attempt, b *store.WebhookBatch) {
	d, r := p.d, a.res
	prev := store.WebhookRetry{Domain: p.domain, URL: p.url, EventSeq: a.seq, EventID: a.id, Kind: a.kind, FirstAttemptAt: r.at}
	if a.retry != nil {
		prev = *a.retry
		prev.Data = nil
	}
	if r.cut {
		// Not an attempt: due again at once, on this node or the next.
		prev.NextAttemptAt = r.at
		if prev.LastError == "" {
			prev.LastError = "interrupted by shutdown"
		}
		b.Retry = append(b.Retry, prev)
		return
	}
	if b.LastAttemptAt.IsZero() || !r.at.Before(b.LastAttemptAt) {
		b.LastAttemptAt, b.LastStatus, b.LastError = r.at, r.status, r.describe()
	}
	if r.ok() {
		b.Posted++
		d.posts.WithLabelValues("ok").Inc()
		if a.retry != nil {
			b.Done = append(b.Done, a.seq)
		}
		return
	}
	b.Failures++
	prev.Attempts++
	prev.LastAttemptAt, prev.LastStatus, prev.LastError = r.at, r.status, r.describe()
	next, ok := NextAttempt(d.cfg.Schedule, d.cfg.MaxAge, prev.Attempts, prev.FirstAttemptAt, r.at)
	if !ok || !Retryable(a.kind, r.status) {
		b.Dropped++
		d.posts.WithLabelValues("dropped").Inc()
		d.deps.Log.Info("webhook given up", append(p.log(), "event_id", a.id, "kind", a.kind,
			"attempt", prev.Attempts, "status", r.status, "err", prev.LastError)...)
		if a.retry != nil {
			b.Done = append(b.Done, a.seq)
		}
		return
	}
	prev.NextAttemptAt = next
	b.Retry = append(b.Retry, prev)
	d.posts.WithLabelValues("retry").Inc()
	d.deps.Log.Debug("webhook failed; will retry", append(p.log(), "event_id", a.id, "kind", a.kind,
		"attempt", prev.Attempts, "status", r.status, "err", prev.LastError, "next", next)...)
}
