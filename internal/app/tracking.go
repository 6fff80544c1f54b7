package app

import (
	"context"
	"net/url"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/tracking"
)

// newTracking builds open, click and unsubscribe tracking: delivery
// rewrites copies through it, the HTTP listener serves its URLs, mailing
// list unsubscribes go to the lists service.
func (a *App) newTracking() {
	a.Tracking = tracking.New(tracking.Deps{
		Box: a.Box, Store: a.Regional, Lists: a.Lists, Now: a.seams.Now,
		Log: a.Log.With("part", "tracking"), Metrics: a.Metrics,
		MessageInfo: func(ctx context.Context, domain, key string) (events.MessageInfo, error) {
			return send.MessageInfo(ctx, a.Regional, domain, key)
		},
	})
}

// publicHost is the host (with port) of the public URL: never a tracking
// host.
func publicHost(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return u.Host
}
