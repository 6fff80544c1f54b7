package webhooks

import (
	"context"
	"slices"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// maxRetriesShown bounds the retries listed per URL.
const maxRetriesShown = 100

// Attempts is how deliveries to each URL of a domain go (beyond Mailgun):
// with kind "" every URL and its retries, else the URLs of that kind and
// their retries of it (ErrNotFound when the domain has no such webhook).
// The API's attempts views and the dashboard's Webhooks tab show it.
func Attempts(ctx context.Context, st store.WebhookStore, domain, kind string) (mgapi.WebhookAttempts, error) {
	out := mgapi.WebhookAttempts{URLs: []mgapi.WebhookURLState{}}
	set, err := st.Webhooks(ctx, domain)
	if err != nil {
		return out, err
	}
	if kind != "" && len(set[kind]) == 0 {
		return out, ErrNotFound
	}
	cursors, err := st.WebhookCursors(ctx, domain)
	if err != nil {
		return out, err
	}
	for _, cur := range cursors {
		if kind != "" && !slices.Contains(set[kind], cur.URL) {
			continue
		}
		s, err := urlState(ctx, st, set, cur, kind)
		if err != nil {
			return out, err
		}
		out.URLs = append(out.URLs, s)
	}
	return out, nil
}

func urlState(ctx context.Context, st store.WebhookStore, set store.WebhookSet, cur store.WebhookCursor, kind string) (mgapi.WebhookURLState, error) {
	s := mgapi.WebhookURLState{
		URL: cur.URL, EventTypes: []string{}, Posted: cur.Posted, Failures: cur.Failures, Dropped: cur.Dropped,
		LastAttemptAt: optTime(cur.LastAttemptAt), LastStatus: cur.LastStatus, LastError: cur.LastError,
		Retrying: []mgapi.WebhookRetry{},
	}
	for _, k := range Kinds {
		if slices.Contains(set[k], cur.URL) {
			s.EventTypes = append(s.EventTypes, k)
		}
	}
	rs, err := st.WebhookRetries(ctx, cur.Domain, cur.URL, time.Time{}, maxRetriesShown)
	for _, r := range rs {
		if kind != "" && r.Kind != kind {
			continue
		}
		s.Retrying = append(s.Retrying, mgapi.WebhookRetry{
			EventID: r.EventID, EventType: r.Kind, Attempts: r.Attempts, FirstAttemptAt: mgapi.Time(r.FirstAttemptAt),
			LastAttemptAt: optTime(r.LastAttemptAt), LastStatus: r.LastStatus, LastError: r.LastError,
			NextAttemptAt: mgapi.Time(r.NextAttemptAt),
		})
	}
	return s, err
}

func optTime(t time.Time) *mgapi.Time {
	if t.IsZero() {
		return nil
	}
	w := mgapi.Time(t)
	return &w
}
