package api

import (
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// trackingRoutes are the domain tracking settings of docs/mailgun-contract.md §9. The
// tracking itself (pixel, redirects, unsubscribe pages) is package
// tracking, served beside the API on the same listener.
func (s *Server) trackingRoutes() {
	s.handle("GET", "/v3/domains/{name}/tracking", auth.Account, s.getTracking)
	s.handle("PUT", "/v3/domains/{name}/tracking/open", auth.Account, s.updateOpenTracking)
	s.handle("PUT", "/v3/domains/{name}/tracking/click", auth.Account, s.updateClickTracking)
	s.handle("PUT", "/v3/domains/{name}/tracking/unsubscribe", auth.Account, s.updateUnsubscribeTracking)
}

const trackingUpdated = "Domain tracking settings have been updated"

func openJSON(t store.Tracking) *mgapi.OpenTracking {
	return &mgapi.OpenTracking{Active: t.Open, PlaceAtTheTop: t.OpenTop}
}

func clickJSON(t store.Tracking) *mgapi.ClickTracking {
	return &mgapi.ClickTracking{Active: t.Click, HTMLOnly: t.Click && t.ClickHTMLOnly}
}

func unsubscribeJSON(t store.Tracking) *mgapi.UnsubscribeTracking {
	return &mgapi.UnsubscribeTracking{Active: t.Unsubscribe, HTMLFooter: t.HTMLFooter, TextFooter: t.TextFooter}
}

func (s *Server) getTracking(c *Ctx) (any, error) {
	t := c.Domain.Tracking
	return mgapi.Tracking{Tracking: mgapi.TrackingSettings{
		Open: *openJSON(t), Click: *clickJSON(t), Unsubscribe: *unsubscribeJSON(t),
		WebScheme: c.Domain.WebScheme,
	}}, nil
}

// activeParam reads "active": yes/no/true/false (any case), and htmlonly
// where allowed. A missing value leaves the setting as it is.
func activeParam(p *mgapi.Params, cur bool, htmlonly bool) (active, only bool, err error) {
	v := strings.ToLower(strings.TrimSpace(p.Get("active")))
	if v == "" {
		return cur, false, nil
	}
	if htmlonly && v == "htmlonly" {
		return true, true, nil
	}
	b, ok := mgapi.ParseBool(v)
	if !ok {
		if htmlonly {
			return false, false, fault.Invalidf("'active' parameter must be yes, no or htmlonly")
		}
		return false, false, fault.Invalidf("'active' parameter must be yes or no")
	}
	return b, false, nil
}

func (s *Server) saveTracking(c *Ctx, t store.Tracking) (store.Tracking, error) {
	d, err := s.Domains.Update(c.R.Context(), c.Var("name"), domains.UpdateRequest{Tracking: &t})
	return d.Tracking, err
}

func (s *Server) updateOpenTracking(c *Ctx) (any, error) {
	c.P.Accept("active", "place_at_the_top")
	t := c.Domain.Tracking
	active, _, err := activeParam(c.P, t.Open, false)
	if err != nil {
		return nil, err
	}
	top, err := c.P.Bool("place_at_the_top", t.OpenTop)
	if err != nil {
		return nil, err
	}
	t.Open, t.OpenTop = active, top
	if t, err = s.saveTracking(c, t); err != nil {
		return nil, err
	}
	return mgapi.TrackingUpdated{Message: trackingUpdated, Open: openJSON(t)}, nil
}

func (s *Server) updateClickTracking(c *Ctx) (any, error) {
	c.P.Accept("active")
	t := c.Domain.Tracking
	active, only, err := activeParam(c.P, t.Click, true)
	if err != nil {
		return nil, err
	}
	if c.P.Get("active") != "" {
		t.Click, t.ClickHTMLOnly = active, only
	}
	if t, err = s.saveTracking(c, t); err != nil {
		return nil, err
	}
	return mgapi.TrackingUpdated{Message: trackingUpdated, Click: clickJSON(t)}, nil
}

func (s *Server) updateUnsubscribeTracking(c *Ctx) (any, error) {
	c.P.Accept("active", "html_footer", "text_footer")
	t := c.Domain.Tracking
	active, _, err := activeParam(c.P, t.Unsubscribe, false)
	if err != nil {
		return nil, err
	}
	t.Unsubscribe = active
	// mailgun-go always sends both footers, possibly empty: an empty or
	// absent footer keeps the one there is.
	if v := c.P.Raw("html_footer"); v != "" {
		t.HTMLFooter = v
	}
	if v := c.P.Raw("text_footer"); v != "" {
		t.TextFooter = v
	}
	if t, err = s.saveTracking(c, t); err != nil {
		return nil, err
	}
	return mgapi.TrackingUpdated{Message: trackingUpdated, Unsubscribe: unsubscribeJSON(t)}, nil
}
