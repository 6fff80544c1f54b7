package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/msgmeta"
	"github.com/salvo-email/salvo/internal/store"
)

// DropStore is what DropDomain needs of the regional store.
type DropStore interface {
	store.EnvelopeStore
	Messages(ctx context.Context, domain string, keys []string) ([]store.Message, error)
}

// dropBatch is how many jobs one transaction drops.
const dropBatch = 500

// DroppedMessage is the delivery-status message of a dropped copy.
const DroppedMessage = "Dropped: the domain's queued and scheduled mail was deleted (DELETE /v3/{domain}/envelopes)"

// DropDomain removes every copy of domain's mail that waits in the queue,
// scheduled or due, and not being delivered at this moment (a copy in a
// delivery attempt finishes that attempt), and writes for each a failed
// event, severity permanent, reason generic, in the same transaction as
// its removal. It adds no suppression. It returns how many copies went.
func DropDomain(ctx context.Context, st DropStore, domain string, now time.Time) (int, error) {
	total := 0
	after := int64(0)
	for {
		jobs, err := st.WaitingJobs(ctx, domain, now, after, dropBatch)
		if err != nil || len(jobs) == 0 {
			return total, err
		}
		after = jobs[len(jobs)-1].ID
		drops, err := dropOutcomes(ctx, st, domain, jobs, now)
		if err != nil {
			return total, err
		}
		n, err := st.DropJobs(ctx, drops, now)
		total += n
		if err != nil {
			return total, err
		}
	}
}

func dropOutcomes(ctx context.Context, st DropStore, domain string, jobs []store.Job, now time.Time) ([]store.Outcome, error) {
	keys := make([]string, 0, len(jobs))
	seen := map[string]bool{}
	for _, j := range jobs {
		if !seen[j.MessageKey] {
			seen[j.MessageKey] = true
			keys = append(keys, j.MessageKey)
		}
	}
	msgs, err := st.Messages(ctx, domain, keys)
	if err != nil {
		return nil, err
	}
	metas := make(map[string]*msgmeta.Meta, len(msgs))
	for _, m := range msgs {
		meta, err := msgmeta.Decode(m.Meta)
		if err != nil {
			return nil, fmt.Errorf("message %s meta: %w", m.Key, err)
		}
		metas[m.Key] = &meta
	}
	out := make([]store.Outcome, 0, len(jobs))
	for _, j := range jobs {
		o := store.Outcome{JobID: j.ID, Done: true}
		if meta, ok := metas[j.MessageKey]; ok { // a message already expired gets no event
			ds := mgapi.DeliveryStatus{Message: DroppedMessage, Description: DroppedMessage, AttemptNo: j.Attempts}
			o.Events = []store.Event{events.NewFailed(meta.InfoFor(j.Recipient), j.Recipient,
				meta.UserVarsForJob(j.Recipient, j.Vars), events.Permanent, events.ReasonGeneric, ds, now)}
		}
		out = append(out, o)
	}
	return out, nil
}
