package events

import (
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Inbound events record what the MX and the routes did with a received
// message, one recipient at a time, in the recipient's domain. Only event
// names the SDKs know are used: accepted (received, routes evaluated),
// stored (a store() action), delivered and failed (a route's forward or
// notify POST, or a forward to an address that could not be sent).
// mi.Sender is the SMTP MAIL FROM and mi.Method "smtp".

// inboundBase is base for a received message: not authenticated, routed
// when routes matched, and without storage unless the message was stored.
func inboundBase(mi *MessageInfo, typ, rcpt string, routes []mgapi.RouteRef, now time.Time) mgapi.Event {
	e := base(mi, typ, rcpt, map[string]any{}, now)
	e.Method = "smtp"
	e.Flags = &mgapi.Flags{IsRouted: len(routes) > 0}
	e.Routes = routes
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Transport: "smtp", Targets: rcpt}
	if mi.StorageKey == "" {
		e.Storage = nil
	}
	return e
}

// NewInboundAccepted is the accepted event of a received message for
// rcpt, with the routes that matched it.
func NewInboundAccepted(mi *MessageInfo, rcpt string, routes []mgapi.RouteRef, now time.Time) store.Event {
	e := inboundBase(mi, Accepted, rcpt, routes, now)
	e.OriginatingIP = mi.OriginatingIP
	return Record(mi.Domain, e, now)
}

// NewStored is the stored event of a store() action; mi carries the
// stored copy's storage key and URL.
func NewStored(mi *MessageInfo, rcpt string, routes []mgapi.RouteRef, now time.Time) store.Event {
	e := inboundBase(mi, Stored, rcpt, routes, now)
	e.Message.Recipients = []string{rcpt}
	return Record(mi.Domain, e, now)
}

// NewRouteDelivered is a route action that reached its target (a URL
// that answered 2xx).
func NewRouteDelivered(mi *MessageInfo, rcpt, target string, route mgapi.RouteRef, ds mgapi.DeliveryStatus, now time.Time) store.Event {
	e := inboundBase(mi, Delivered, rcpt, []mgapi.RouteRef{route}, now)
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Transport: "http", Targets: target}
	e.DeliveryStatus = &ds
	return Record(mi.Domain, e, now)
}

// NewRouteFailed is a route action that failed, for now (temporary, it
// will be retried) or for good.
func NewRouteFailed(mi *MessageInfo, rcpt, target string, route mgapi.RouteRef, severity Severity, reason Reason, ds mgapi.DeliveryStatus, now time.Time) store.Event {
	e := inboundBase(mi, Failed, rcpt, []mgapi.RouteRef{route}, now)
	e.Severity, e.Reason = string(severity), string(reason)
	e.LogLevel = "warn"
	if severity == Permanent {
		e.LogLevel = "error"
	}
	transport := "http"
	if !strings.Contains(target, "://") {
		transport = "smtp"
	}
	e.Envelope = &mgapi.Envelope{Sender: mi.Sender, Transport: transport, Targets: target}
	e.DeliveryStatus = &ds
	return Record(mi.Domain, e, now)
}
