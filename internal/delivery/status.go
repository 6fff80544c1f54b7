package delivery

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/api/wire"
	"github.com/salvo-email/salvo/internal/store"
)

// Status answers "why is this message not delivered yet?": what waits per
// destination and, for one message, each recipient's state and history.
type Status struct {
	Domain       string        `json:"domain,omitempty"`
	Destinations []Destination `json:"destinations"`
	Message      *MessageState `json:"message,omitempty"`
}

// Destination is the queue of one destination domain.
type Destination struct {
	Destination   string     `json:"destination"`
	Waiting       int        `json:"waiting"`
	Due           int        `json:"due"`
	InFlight      int        `json:"in_flight"`
	NextAttemptAt *wire.Time `json:"next_attempt_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	// State is "up", or what this node knows of a destination it could
	// not reach (health.go): "backing-off" until DownUntil, "probing".
	State     string     `json:"state"`
	Failures  int        `json:"failures,omitempty"`
	DownSince *wire.Time `json:"down_since,omitempty"`
	DownUntil *wire.Time `json:"down_until,omitempty"`
	DownError string     `json:"down_error,omitempty"`
}

// AddHealth fills each destination's state from what the node's engine
// knows (Engine.Health; health keys are recipient domains, or one key for
// the smarthost that every domain's mail goes to).
func (s *Status) AddHealth(down []DestinationHealth) {
	byKey := map[string]DestinationHealth{}
	var smarthost *DestinationHealth
	for i, h := range down {
		byKey[h.Destination] = h
		if strings.HasPrefix(h.Destination, "smarthost ") {
			smarthost = &down[i]
		}
	}
	for i := range s.Destinations {
		d := &s.Destinations[i]
		d.State = "up"
		h, ok := byKey[d.Destination]
		if !ok && smarthost != nil {
			h, ok = *smarthost, true
		}
		if !ok {
			continue
		}
		since, until := wire.Time(h.Since), wire.Time(h.Until)
		d.State, d.Failures, d.DownSince, d.DownUntil, d.DownError = h.State, h.Failures, &since, &until, h.LastError
	}
}

// MessageState is one message's recipients still queued and its history.
type MessageState struct {
	MessageID string         `json:"message-id"`
	Waiting   []WaitingRcpt  `json:"waiting"`
	History   []HistoryEntry `json:"history"`
}

// WaitingRcpt is a queued recipient.
type WaitingRcpt struct {
	Recipient     string    `json:"recipient"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt wire.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error"`
}

// HistoryEntry is one event of the message.
type HistoryEntry struct {
	Time      wire.Time `json:"time"`
	Event     string    `json:"event"`
	Severity  string    `json:"severity,omitempty"`
	Recipient string    `json:"recipient"`
	Code      int       `json:"code,omitempty"`
	// EnhancedCode is the reply's RFC 3463 status code (5.1.1), if any.
	EnhancedCode string `json:"enhanced-code,omitempty"`
	Reply        string `json:"reply,omitempty"`
	MXHost       string `json:"mx-host,omitempty"`
	Attempt      int    `json:"attempt,omitempty"`
}

// QueueStatus reads the status of domain's queue ("" for every domain)
// and, when messageID is given, of that message.
func QueueStatus(ctx context.Context, s store.Regional, domain, messageID string, now time.Time) (Status, error) {
	stats, err := s.QueueStats(ctx, domain, now)
	if err != nil {
		return Status{}, err
	}
	out := Status{Domain: domain, Destinations: []Destination{}}
	for _, st := range stats {
		d := Destination{Destination: st.RcptDomain, Waiting: st.Waiting, Due: st.Due, InFlight: st.InFlight,
			LastError: st.LastError, State: "up"}
		if !st.NextAttemptAt.IsZero() {
			t := wire.Time(st.NextAttemptAt)
			d.NextAttemptAt = &t
		}
		out.Destinations = append(out.Destinations, d)
	}
	if messageID == "" || domain == "" {
		return out, nil
	}
	jobs, err := s.JobsOfMessage(ctx, domain, messageID)
	if err != nil {
		return Status{}, err
	}
	m := &MessageState{MessageID: messageID, Waiting: []WaitingRcpt{}, History: []HistoryEntry{}}
	for _, j := range jobs {
		m.Waiting = append(m.Waiting, WaitingRcpt{Recipient: j.Recipient, Attempts: j.Attempts,
			NextAttemptAt: wire.Time(j.NextAttemptAt), LastError: j.LastError})
	}
	evs, err := s.Events(ctx, store.EventQuery{Domain: domain, MessageID: messageID, Ascending: true, Limit: 1000})
	if err != nil {
		return Status{}, err
	}
	for _, e := range evs {
		var w wire.Event
		if json.Unmarshal(e.Data, &w) != nil {
			continue
		}
		h := HistoryEntry{Time: wire.Time(e.Timestamp), Event: e.Type, Severity: e.Severity, Recipient: e.Recipient}
		if ds := w.DeliveryStatus; ds != nil {
			h.Code, h.Reply, h.MXHost, h.Attempt = ds.Code, ds.Message, ds.MXHost, ds.AttemptNo
			h.EnhancedCode = ds.EnhancedCode
		}
		m.History = append(m.History, h)
	}
	out.Message = m
	return out, nil
}
