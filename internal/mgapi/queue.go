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
	// Shaping is this node's traffic shaping in force (package shaping):
	// per provider group and source address, the connections open and
	// allowed, the configured and current rates, and a back-off's state
	// and reason. Default-group entries (one per recipient domain) are
	// listed for this queue's destinations only, and only when they limit
	// something or are paused or recovering.
	Shaping []QueueShaping `json:"shaping,omitempty"`
}

// AddShaping fills Shaping from the node's limiter (delivery.Engine.Shaping).
func (s *QueueStatus) AddShaping(states []QueueShaping) {
	mine := map[string]bool{}
	for _, d := range s.Destinations {
		mine[d.Destination] = true
	}
	s.Shaping = nil
	for _, st := range states {
		if st.Destination != "" && (s.Domain != "" && !mine[st.Destination] || !st.Limited()) {
			continue
		}
		s.Shaping = append(s.Shaping, st)
	}
}

// QueueShaping is one provider group's (and source address's) shaping as
// the queue view shows it (package shaping, docs/shaping.md).
type QueueShaping struct {
	Group       string `json:"group"`
	Destination string `json:"destination,omitempty"`
	Source      string `json:"source"`
	// Connections are open now, of MaxConnections (0: no limit).
	Connections              int `json:"connections"`
	MaxConnections           int `json:"max_connections"`
	MaxMessagesPerConnection int `json:"max_messages_per_connection"`
	// MaxMessagesPerMinute and MaxMessagesPerHour are configured (0: no
	// limit); CurrentMessagesPerMinute is in force now (lowered after a
	// throttle; 0: no limit).
	MaxMessagesPerMinute     int        `json:"max_messages_per_minute"`
	MaxMessagesPerHour       int        `json:"max_messages_per_hour"`
	CurrentMessagesPerMinute float64    `json:"current_messages_per_minute"`
	State                    string     `json:"state"` // "normal", "paused" or "recovering"
	PausedUntil              *time.Time `json:"paused_until,omitempty"`
	Throttles                int        `json:"throttles"`
	Reason                   string     `json:"reason,omitempty"`
	Since                    *time.Time `json:"since,omitempty"`
}

// Limited reports whether s limits anything: a configured limit, or a
// pause or lowered rate after a throttle.
func (s QueueShaping) Limited() bool {
	return s.State != "normal" || s.MaxConnections > 0 || s.MaxMessagesPerConnection > 0 ||
		s.MaxMessagesPerMinute > 0 || s.MaxMessagesPerHour > 0
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
	// EnhancedCode is the reply's RFC 3463 status code (5.1.1), if any.
	EnhancedCode string `json:"enhanced-code,omitempty"`
	Reply        string `json:"reply,omitempty"`
	MXHost       string `json:"mx-host,omitempty"`
	Attempt      int    `json:"attempt,omitempty"`
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
