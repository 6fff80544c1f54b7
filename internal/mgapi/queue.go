package mgapi

import (
	"strings"
	"time"
)

// The /v3/{domain}/queue answer and `salvo queue`: Salvo's own endpoint,
// not Mailgun's, shaped in the same style and kept with Mailgun's shapes
// so that the API, the dashboard and the command share one definition.

// QueueStatus answers "why is this message not delivered yet?": what waits per
// destination and, for one message, each recipient's state and history.
type QueueStatus struct {
	Domain       string             `json:"domain,omitempty"`
	Destinations []QueueDestination `json:"destinations"`
	Message      *QueueMessage      `json:"message,omitempty"`
}

// QueueDestination is the queue of one destination domain.
type QueueDestination struct {
	Destination   string `json:"destination"`
	Waiting       int    `json:"waiting"`
	Due           int    `json:"due"`
	InFlight      int    `json:"in_flight"`
	NextAttemptAt *Time  `json:"next_attempt_at,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	// State is "up", or what this node knows of a destination it could
	// not reach (package delivery, health.go): "backing-off" until DownUntil, "probing".
	State     string `json:"state"`
	Failures  int    `json:"failures,omitempty"`
	DownSince *Time  `json:"down_since,omitempty"`
	DownUntil *Time  `json:"down_until,omitempty"`
	DownError string `json:"down_error,omitempty"`
}

// AddHealth fills each destination's state from what the node's engine
// knows (delivery's Engine.Health; health keys are recipient domains, or one key for
// the smarthost that every domain's mail goes to).
func (s *QueueStatus) AddHealth(down []QueueHealth) {
	byKey := map[string]QueueHealth{}
	var smarthost *QueueHealth
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
		since, until := Time(h.Since), Time(h.Until)
		d.State, d.Failures, d.DownSince, d.DownUntil, d.DownError = h.State, h.Failures, &since, &until, h.LastError
	}
}

// QueueMessage is one message's recipients still queued and its history.
type QueueMessage struct {
	MessageID string         `json:"message-id"`
	Waiting   []QueueWaiting `json:"waiting"`
	History   []QueueHistory `json:"history"`
}

// QueueWaiting is a queued recipient.
type QueueWaiting struct {
	Recipient     string `json:"recipient"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt Time   `json:"next_attempt_at"`
	LastError     string `json:"last_error"`
}

// QueueHistory is one event of the message.
type QueueHistory struct {
	Time      Time   `json:"time"`
	Event     string `json:"event"`
	Severity  string `json:"severity,omitempty"`
	Recipient string `json:"recipient"`
	Code      int    `json:"code,omitempty"`
	Reply     string `json:"reply,omitempty"`
	MXHost    string `json:"mx-host,omitempty"`
	Attempt   int    `json:"attempt,omitempty"`
}

// QueueHealth is a destination's state as the queue view shows it: what
// the delivery engine knows of a destination it could not reach.
type QueueHealth struct {
	Destination string    `json:"destination"`
	State       string    `json:"state"` // "backing-off" or "probing"
	Failures    int       `json:"failures"`
	Since       time.Time `json:"since"`
	Until       time.Time `json:"until"`
	LastError   string    `json:"last_error"`
}
