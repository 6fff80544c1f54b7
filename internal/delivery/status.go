package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// QueueStatus reads the status of domain's queue ("" for every domain)
// and, when messageID is given, of that message.
func QueueStatus(ctx context.Context, s store.Regional, domain, messageID string, now time.Time) (mgapi.QueueStatus, error) {
	stats, err := s.QueueStats(ctx, domain, now)
	if err != nil {
		return mgapi.QueueStatus{}, err
	}
	out := mgapi.QueueStatus{Domain: domain, Destinations: []mgapi.QueueDestination{}}
	for _, st := range stats {
		d := mgapi.QueueDestination{Destination: st.RcptDomain, Waiting: st.Waiting, Due: st.Due, InFlight: st.InFlight,
			LastError: st.LastError, State: "up"}
		if !st.NextAttemptAt.IsZero() {
			t := mgapi.Time(st.NextAttemptAt)
			d.NextAttemptAt = &t
		}
		out.Destinations = append(out.Destinations, d)
	}
	if messageID == "" || domain == "" {
		return out, nil
	}
	jobs, err := s.JobsOfMessage(ctx, domain, messageID)
	if err != nil {
		return mgapi.QueueStatus{}, err
	}
	m := &mgapi.QueueMessage{MessageID: messageID, Waiting: []mgapi.QueueWaiting{}, History: []mgapi.QueueHistory{}}
	for _, j := range jobs {
		m.Waiting = append(m.Waiting, mgapi.QueueWaiting{Recipient: j.Recipient, Attempts: j.Attempts,
			NextAttemptAt: mgapi.Time(j.NextAttemptAt), LastError: j.LastError})
	}
	evs, err := s.Events(ctx, store.EventQuery{Domain: domain, MessageID: messageID, Ascending: true, Limit: 1000})
	if err != nil {
		return mgapi.QueueStatus{}, err
	}
	for _, e := range evs {
		var w mgapi.Event
		if json.Unmarshal(e.Data, &w) != nil {
			continue
		}
		h := mgapi.QueueHistory{Time: mgapi.Time(e.Timestamp), Event: e.Type, Severity: e.Severity, Recipient: e.Recipient}
		if ds := w.DeliveryStatus; ds != nil {
			h.Code, h.Reply, h.MXHost, h.Attempt = ds.Code, ds.Message, ds.MXHost, ds.AttemptNo
			h.EnhancedCode = ds.EnhancedCode
		}
		m.History = append(m.History, h)
	}
	out.Message = m
	return out, nil
}
