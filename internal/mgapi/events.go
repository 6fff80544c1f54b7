package mgapi

import "time"

// Event is the Events API object (docs/mailgun-contract.md §3.4), also the event-data of
// webhooks. Numeric fields are numbers and dates are float Unix seconds, as
// mailgun-go's decoders require; tags, campaigns and user-variables are
// always present.
type Event struct {
	ID              string          `json:"id"`
	Event           string          `json:"event"`
	Timestamp       float64         `json:"timestamp"`
	LogLevel        string          `json:"log-level"`
	Method          string          `json:"method,omitempty"`
	Severity        string          `json:"severity,omitempty"`
	Reason          string          `json:"reason,omitempty"`
	Recipient       string          `json:"recipient,omitempty"`
	RecipientDomain string          `json:"recipient-domain,omitempty"`
	Envelope        *Envelope       `json:"envelope,omitempty"`
	Message         *EventMessage   `json:"message,omitempty"`
	Flags           *Flags          `json:"flags,omitempty"`
	Tags            []string        `json:"tags"`
	Campaigns       []Campaign      `json:"campaigns"`
	UserVariables   map[string]any  `json:"user-variables"`
	Storage         *Storage        `json:"storage,omitempty"`
	DeliveryStatus  *DeliveryStatus `json:"delivery-status,omitempty"`
	OriginatingIP   string          `json:"originating-ip,omitempty"`
	// Routes are the routes an inbound message matched (accepted, stored,
	// and the outcomes of route actions).
	Routes []RouteRef `json:"routes,omitempty"`
	// Engagement events (opened, clicked, unsubscribed).
	IP          string       `json:"ip,omitempty"`
	URL         string       `json:"url,omitempty"`
	ClientInfo  *ClientInfo  `json:"client-info,omitempty"`
	Geolocation *Geolocation `json:"geolocation,omitempty"`
}

// RouteRef names a route in an event (docs/mailgun-contract.md §3.4: routed mail adds
// routes[{expression,id,match{recipient}}]).
type RouteRef struct {
	ID          string     `json:"id"`
	Expression  string     `json:"expression"`
	Priority    int        `json:"priority"`
	Description string     `json:"description"`
	Match       RouteMatch `json:"match"`
}

// RouteMatch is what a route matched.
type RouteMatch struct {
	Recipient string `json:"recipient"`
}

// EventTime is an event timestamp: float Unix seconds with microseconds.
func EventTime(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// Envelope is the SMTP envelope of an event.
type Envelope struct {
	Sender    string `json:"sender,omitempty"`
	Transport string `json:"transport,omitempty"`
	Targets   string `json:"targets,omitempty"`
	SendingIP string `json:"sending-ip,omitempty"`
}

// EventMessage is the message part of an event.
type EventMessage struct {
	Headers     MessageHeaders   `json:"headers"`
	Attachments []AttachmentInfo `json:"attachments"`
	Recipients  []string         `json:"recipients,omitempty"`
	Size        int              `json:"size"`
}

// MessageHeaders are the headers events carry; message-id has no brackets.
type MessageHeaders struct {
	To        string `json:"to"`
	MessageID string `json:"message-id"`
	From      string `json:"from"`
	Subject   string `json:"subject"`
}

// AttachmentInfo describes an attached file.
type AttachmentInfo struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content-type"`
	Size        int    `json:"size"`
}

// Flags are an event's flags.
type Flags struct {
	IsAuthenticated bool `json:"is-authenticated"`
	IsRouted        bool `json:"is-routed"`
	IsSystemTest    bool `json:"is-system-test"`
	IsTestMode      bool `json:"is-test-mode"`
	IsDelayedBounce bool `json:"is-delayed-bounce,omitempty"`
}

// Campaign is a (deprecated) campaign reference.
type Campaign struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Storage locates the stored message.
type Storage struct {
	URL string `json:"url"`
	Key string `json:"key"`
}

// DeliveryStatus is what the receiving server said.
type DeliveryStatus struct {
	Code                int     `json:"code"`
	Message             string  `json:"message"`
	Description         string  `json:"description"`
	EnhancedCode        string  `json:"enhanced-code,omitempty"`
	MXHost              string  `json:"mx-host,omitempty"`
	AttemptNo           int     `json:"attempt-no"`
	RetrySeconds        int     `json:"retry-seconds,omitempty"`
	SessionSeconds      float64 `json:"session-seconds"`
	TLS                 bool    `json:"tls"`
	CertificateVerified bool    `json:"certificate-verified"`
	UTF8                bool    `json:"utf8"`
	// TLSPolicy and TLSPolicyReport are Salvo's own (Mailgun has no such
	// fields): the TLS policy that applied to the session ("dane",
	// "mta-sts enforce", "mta-sts testing") and how it was not met.
	TLSPolicy       string `json:"tls-policy,omitempty"`
	TLSPolicyReport string `json:"tls-policy-report,omitempty"`
}

// ClientInfo describes the client of an engagement event.
type ClientInfo struct {
	ClientName string `json:"client-name"`
	ClientOS   string `json:"client-os"`
	ClientType string `json:"client-type"`
	DeviceType string `json:"device-type"`
	UserAgent  string `json:"user-agent"`
	Bot        string `json:"bot"`
}

// Geolocation is where an engagement came from (unknown without a GeoIP
// database: empty strings).
type Geolocation struct {
	Country string `json:"country"`
	Region  string `json:"region"`
	City    string `json:"city"`
}

// SendResponse is the reply of the send endpoints.
type SendResponse struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// EventsPage is GET /v3/{domain}/events.
type EventsPage struct {
	Items  []any  `json:"items"`
	Paging Paging `json:"paging"`
}

// Paging holds absolute page URLs.
type Paging struct {
	First    string `json:"first"`
	Last     string `json:"last"`
	Next     string `json:"next"`
	Previous string `json:"previous"`
}
