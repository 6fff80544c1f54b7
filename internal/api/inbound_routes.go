package api

import (
	"errors"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/routes"
	"github.com/salvo-email/salvo/internal/store"
)

var errRouteNotFound = fault.NotFoundf("Route not found")

func routeJSON(r store.Route) mgapi.Route {
	actions := r.Actions
	if actions == nil {
		actions = []string{}
	}
	return mgapi.Route{ID: r.ID, Priority: r.Priority, Description: r.Description, Expression: r.Expression,
		Actions: actions, CreatedAt: mgapi.Time(r.CreatedAt)}
}

// listRoutes is GET /v3/routes (docs/mailgun-contract.md §6.1), in evaluation order.
func (s *Server) listRoutes(c *Ctx) (any, error) {
	c.P.Accept("skip", "limit")
	skip, limit, err := skipLimit(c.P, 100, 1000, "The 'limit' parameter can't be larger than 1000")
	if err != nil {
		return nil, err
	}
	rs, total, err := s.Regional.AccountRoutes(c.R.Context(), c.Tenant.Owner(), skip, limit)
	if err != nil {
		return nil, err
	}
	out := mgapi.RoutesPage{TotalCount: total, Items: make([]mgapi.Route, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, routeJSON(r))
	}
	return out, nil
}

func (s *Server) loadRoute(c *Ctx) (store.Route, error) {
	r, err := s.Regional.Route(c.R.Context(), c.Var("route"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.Tenant.Owns(r.AccountID)) {
		return store.Route{}, errRouteNotFound
	}
	return r, err
}

// getRoute is GET /v3/routes/{id}.
func (s *Server) getRoute(c *Ctx) (any, error) {
	c.P.Accept()
	r, err := s.loadRoute(c)
	if err != nil {
		return nil, err
	}
	return mgapi.RouteEnvelope{Route: routeJSON(r)}, nil
}

var routeFields = []string{"priority", "description", "expression", "action"}

// readRoute applies the route fields present in the request to r and
// checks the expression and actions, so nothing unusable is stored.
func (s *Server) readRoute(c *Ctx, r *store.Route) error {
	p := c.P
	if p.Has("priority") {
		n, err := p.Int("priority", 0, 0, 1<<31-1)
		if err != nil {
			return err
		}
		r.Priority = n
	}
	if p.Has("description") {
		r.Description = p.Raw("description")
	}
	if p.Has("expression") {
		r.Expression = strings.TrimSpace(p.Raw("expression"))
		if _, err := routes.ParseExpression(r.Expression); err != nil {
			return fault.Invalidf("Invalid expression %q: %v", r.Expression, err)
		}
	}
	if p.Has("action") {
		r.Actions = nil
		for _, a := range p.All("action") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			act, err := routes.ParseAction(a)
			if err != nil {
				return fault.Invalidf("Invalid action %q: %v", a, err)
			}
			if err := s.checkEgress("message", act.URLs()...); err != nil {
				return err
			}
			r.Actions = append(r.Actions, a)
		}
	}
	return nil
}

// createRoute is POST /v3/routes.
func (s *Server) createRoute(c *Ctx) (any, error) {
	c.P.Accept(routeFields...)
	if c.P.Get("expression") == "" {
		return nil, fault.Invalidf("'expression' parameter is required")
	}
	now := s.Now().UTC()
	r := store.Route{ID: routes.NewID(now), CreatedAt: now.Truncate(time.Second), AccountID: c.Tenant.Owner()}
	if err := s.readRoute(c, &r); err != nil {
		return nil, err
	}
	if len(r.Actions) == 0 {
		return nil, fault.Invalidf("'action' parameter is required")
	}
	if err := s.Regional.CreateRoute(c.R.Context(), r); err != nil {
		return nil, err
	}
	return mgapi.RouteEnvelope{Message: "Route has been created", Route: routeJSON(r)}, nil
}

// updateRoute is PUT /v3/routes/{id}: any subset of the fields; action
// replaces the list.
func (s *Server) updateRoute(c *Ctx) (any, error) {
	c.P.Accept(routeFields...)
	r, err := s.loadRoute(c)
	if err != nil {
		return nil, err
	}
	if err := s.readRoute(c, &r); err != nil {
		return nil, err
	}
	if len(r.Actions) == 0 {
		return nil, fault.Invalidf("'action' parameter must not be empty")
	}
	if r.Expression == "" {
		return nil, fault.Invalidf("'expression' parameter must not be empty")
	}
	if err := s.Regional.UpdateRoute(c.R.Context(), r); errors.Is(err, store.ErrNotFound) {
		return nil, errRouteNotFound
	} else if err != nil {
		return nil, err
	}
	j := routeJSON(r)
	return mgapi.RouteUpdated{Route: j, Message: "Route has been updated", Inner: j}, nil
}

// deleteRoute is DELETE /v3/routes/{id}.
func (s *Server) deleteRoute(c *Ctx) (any, error) {
	c.P.Accept()
	id := c.Var("route")
	if _, err := s.loadRoute(c); err != nil {
		return nil, err
	}
	if err := s.Regional.DeleteRoute(c.R.Context(), id); errors.Is(err, store.ErrNotFound) {
		return nil, errRouteNotFound
	} else if err != nil {
		return nil, err
	}
	return mgapi.RouteDeleted{Message: "Route has been deleted", ID: id}, nil
}

// matchRoute is GET /v3/routes/match?address=: the first route that
// would run for a message to address (a match_header filter cannot match
// without a message).
func (s *Server) matchRoute(c *Ctx) (any, error) {
	c.P.Accept("address")
	addr := c.P.Get("address")
	if addr == "" {
		return nil, fault.Invalidf("Parameter 'address' is missing")
	}
	all, err := routes.Load(c.R.Context(), s.Regional, s.Log)
	if err != nil {
		return nil, err
	}
	if ms := routes.Evaluate(routes.Owned(all, c.Tenant.Owner()), routes.Input{Recipient: addr}); len(ms) > 0 {
		return mgapi.RouteEnvelope{Route: routeJSON(ms[0].Route)}, nil
	}
	return nil, errRouteNotFound
}
