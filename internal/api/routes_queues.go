package api

import (
	"net/http"
	"strconv"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// queuesRoutes: Mailgun's sending queue endpoints (docs/mailgun-contract.md §2.5) mapped
// onto Salvo's queue. What waits and why is Salvo's own
// GET /v3/{domain}/queue.
func (s *Server) queuesRoutes() {
	s.handle(http.MethodGet, "/v3/domains/{name}/sending_queues", auth.Account, s.sendingQueues)
	s.handle(http.MethodDelete, "/v3/{domain}/envelopes", auth.Account, s.deleteEnvelopes)
}

// sendingQueues: Salvo never holds a domain's queue back (Mailgun does for
// accounts under review or over a limit): both queues are enabled.
// Scheduled mail (o:deliverytime) and mail due now wait in one queue.
func (s *Server) sendingQueues(c *Ctx) (any, error) {
	c.P.Accept()
	return mgapi.SendingQueues{}, nil
}

// deleteEnvelopes drops the domain's queued and scheduled copies, each
// with a permanent failed event (delivery.DropDomain), and answers
// Mailgun's {"message":"done"}. X-Salvo-Dropped says how many went.
func (s *Server) deleteEnvelopes(c *Ctx) (any, error) {
	c.P.Accept()
	n, err := delivery.DropDomain(c.R.Context(), s.Regional, c.Domain.Name, s.Now())
	if err != nil {
		return nil, err
	}
	s.Log.Info("dropped a domain's waiting mail", "domain", c.Domain.Name, "copies", n)
	c.W.Header().Set("X-Salvo-Dropped", strconv.Itoa(n))
	return mgapi.Message{Message: "done"}, nil
}
