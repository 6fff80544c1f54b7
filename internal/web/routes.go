package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/routes"
	"github.com/salvo-email/salvo/internal/store"
)

// Receiving → Routes: the account's inbound routes in evaluation order
// (priority, then creation), created, edited and deleted with the same
// checks as POST/PUT /v3/routes (an expression and every action must
// parse; a URL destination must pass the egress policy), and a tester
// that runs routes.Evaluate, the engine the MX uses, on a recipient and
// subject and says which routes would fire with which actions.

const routesPath = prefix + "/routes"

func (s *Server) routesRoutes() {
	s.page("GET "+routesPath, s.routesPage)
	s.form("POST "+routesPath, s.createRoute)
	s.page("GET "+routesPath+"/{id}", s.routePage)
	s.form("POST "+routesPath+"/{id}", s.updateRoute)
	s.form("POST "+routesPath+"/{id}/delete", s.deleteRoute)
}

// maxRoutesShown bounds the list; the API pages beyond it.
const maxRoutesShown = 1000

// routeTest is the tester's input and what it found.
type routeTest struct {
	Ran                bool
	Recipient, Subject string
	Fired              []routeFired
}

type routeFired struct {
	Route   store.Route
	Actions []string
}

type routesData struct {
	Routes []store.Route
	Total  int
	Test   routeTest
}

func (s *Server) routesPage(rq *request) error {
	ctx := rq.r.Context()
	rs, total, err := s.Regional.AccountRoutes(ctx, rq.tenant.Owner(), 0, maxRoutesShown)
	if err != nil {
		return err
	}
	d := routesData{Routes: rs, Total: total}
	q := rq.r.URL.Query()
	if q.Has("recipient") {
		d.Test = routeTest{Ran: true, Recipient: strings.TrimSpace(q.Get("recipient")), Subject: q.Get("subject")}
		all, err := routes.Load(ctx, s.Regional, s.Log)
		if err != nil {
			return err
		}
		in := routes.Input{Recipient: d.Test.Recipient}
		if d.Test.Subject != "" {
			in.Headers = [][2]string{{"Subject", d.Test.Subject}}
		}
		for _, m := range routes.Evaluate(routes.Owned(all, rq.tenant.Owner()), in) {
			f := routeFired{Route: m.Route}
			for _, a := range m.Actions {
				f.Actions = append(f.Actions, a.String())
			}
			d.Test.Fired = append(d.Test.Fired, f)
		}
	}
	return s.show(rq, "routes", "Routes", "routes", d)
}

func (s *Server) routePage(rq *request) error {
	r, err := s.Regional.Route(rq.r.Context(), rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.show(rq, "route", "Route "+r.ID, "routes", r)
}

// readRoute fills r from the form: priority, description, expression and
// one action per line.
func (s *Server) readRoute(rq *request, r *store.Route) error {
	f := rq.r.PostForm
	p := strings.TrimSpace(f.Get("priority"))
	if p == "" {
		p = "0"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 {
		return fault.Invalidf("The priority is a whole number, 0 or more (0 runs first).")
	}
	r.Priority = n
	r.Description = strings.TrimSpace(f.Get("description"))
	r.Expression = strings.TrimSpace(f.Get("expression"))
	if r.Expression == "" {
		return fault.Invalidf("Enter an expression, such as match_recipient(\".*@example.com\").")
	}
	if _, err := routes.ParseExpression(r.Expression); err != nil {
		return fault.Invalidf("Invalid expression %q: %v", r.Expression, err)
	}
	r.Actions = nil
	for _, line := range strings.Split(f.Get("actions"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		act, err := routes.ParseAction(line)
		if err != nil {
			return fault.Invalidf("Invalid action %q: %v", line, err)
		}
		for _, u := range act.URLs() {
			if s.Egress != nil {
				if err := s.Egress.CheckURL(u); err != nil {
					return fault.Invalidf("%s is not an allowed URL: %v", u, err)
				}
			}
		}
		r.Actions = append(r.Actions, line)
	}
	if len(r.Actions) == 0 {
		return fault.Invalidf("Enter at least one action, such as forward(\"https://example.com/inbound\") or stop().")
	}
	return nil
}

func (s *Server) createRoute(rq *request) (result, error) {
	res := result{To: routesPath}
	now := s.Now().UTC()
	r := store.Route{ID: routes.NewID(now), CreatedAt: now.Truncate(time.Second), AccountID: rq.tenant.Owner()}
	if err := s.readRoute(rq, &r); err != nil {
		return res, err
	}
	if err := s.Regional.CreateRoute(rq.r.Context(), r); err != nil {
		return res, err
	}
	s.Log.Info("route created", "route", r.ID, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Route " + r.ID + " was created."
	return res, nil
}

func (s *Server) updateRoute(rq *request) (result, error) {
	id := rq.r.PathValue("id")
	res := result{To: routesPath + "/" + id}
	r, err := s.Regional.Route(rq.r.Context(), id)
	if err != nil {
		return result{}, err
	}
	if err := s.readRoute(rq, &r); err != nil {
		return res, err
	}
	if err := s.Regional.UpdateRoute(rq.r.Context(), r); err != nil {
		return res, err
	}
	s.Log.Info("route updated", "route", r.ID, "user_id", rq.ses.User.ID)
	return result{To: routesPath, Flash: flash{Notice: "Route " + r.ID + " was saved."}}, nil
}

func (s *Server) deleteRoute(rq *request) (result, error) {
	id := rq.r.PathValue("id")
	if err := s.Regional.DeleteRoute(rq.r.Context(), id); err != nil {
		return result{}, err
	}
	s.Log.Info("route deleted", "route", id, "user_id", rq.ses.User.ID)
	return result{To: routesPath, Flash: flash{Notice: "Route " + id + " was deleted."}}, nil
}
