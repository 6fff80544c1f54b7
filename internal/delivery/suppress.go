package delivery

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
)

// screen applies docs/mailgun-contract.md §4.6 again just before delivery, so that an address
// suppressed after its message was accepted is still not delivered: such a
// job gets its failed outcome (code 605) at once and no connection carries
// it. One lookup per sending domain covers the whole chunk. When the
// lookup fails the jobs go on unchecked (the accept-time check ran) and
// the failure is logged.
func (e *Engine) screen(ctx context.Context, jobs []store.Job) []store.Job {
	byDomain := map[string][]string{}
	for _, j := range jobs {
		byDomain[j.Domain] = append(byDomain[j.Domain], strings.ToLower(j.Recipient))
	}
	hits := map[string][]store.Suppression{}
	for d, addrs := range byDomain {
		recs, err := e.deps.Store.MatchSuppressions(ctx, d, addrs)
		if err != nil {
			e.deps.Log.Error("suppression check before delivery", "domain", d, "err", err)
			return jobs
		}
		for _, r := range recs {
			hits[d+"\x00"+r.Address] = append(hits[d+"\x00"+r.Address], r)
		}
	}
	if len(hits) == 0 {
		return jobs
	}
	keep := jobs[:0:0]
	for _, j := range jobs {
		rcpt := strings.ToLower(j.Recipient)
		mine := append(hits[j.Domain+"\x00"+rcpt], hits[j.Domain+"\x00"+rcpt[strings.LastIndexByte(rcpt, '@')+1:]]...)
		if len(mine) == 0 {
			keep = append(keep, j)
			continue
		}
		l, err := e.load(ctx, j)
		if err != nil {
			keep = append(keep, j) // prepare records why it cannot be loaded
			continue
		}
		v := suppress.Decide(mine, l.meta.Info.Tags)
		if v.Reason == "" {
			keep = append(keep, j)
			continue
		}
		e.recordLoose(j, l, Result{Kind: Permanent, Code: suppress.Code, Message: v.Message, Reason: events.Reason(v.Reason)})
	}
	return keep
}

// bounceOf is the bounce a permanent SMTP failure adds to the sending
// domain's list (the store skips allowlisted addresses); nil for other
// outcomes, including drops for an existing suppression.
func bounceOf(j store.Job, r Result, d Decision, now time.Time) *store.Suppression {
	if d.Severity != events.Permanent || d.Reason != events.ReasonBounce || r.Kind != Permanent {
		return nil
	}
	return &store.Suppression{Domain: j.Domain, List: store.Bounces, Address: strings.ToLower(j.Recipient),
		Code: strconv.Itoa(r.Code), Error: r.Message, CreatedAt: now.UTC().Truncate(time.Microsecond)}
}
