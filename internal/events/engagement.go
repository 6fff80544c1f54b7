package events

import (
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// Engagement is what a reader's open, click or unsubscribe tells.
type Engagement struct {
	IP          string
	URL         string // clicked: the link's URL
	Client      mgapi.ClientInfo
	Geolocation mgapi.Geolocation
}

// NewEngagement is an opened, clicked or unsubscribed event (docs/mailgun-contract.md
// docs/mailgun-contract.md §3.4) of one recipient of the message mi describes.
func NewEngagement(mi *MessageInfo, typ, rcpt string, g Engagement, now time.Time) store.Event {
	e := base(mi, typ, rcpt, nil, now)
	// Mailgun's engagement events carry no storage and no flags.
	e.Storage, e.Flags = nil, nil
	e.IP, e.URL = g.IP, g.URL
	ci, geo := g.Client, g.Geolocation
	e.ClientInfo, e.Geolocation = &ci, &geo
	return Record(mi.Domain, e, now)
}
