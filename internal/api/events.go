package api

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// eventsPage is the Events API response; items are the stored JSON.
type eventsPage struct {
	Items  []json.RawMessage `json:"items"`
	Paging mgapi.Paging      `json:"paging"`
}

func (s *Server) listEvents(c *Ctx) (any, error) {
	q, err := events.ParseQuery(c.P)
	if err != nil {
		return nil, err
	}
	return s.eventsPage(c, q)
}

func (s *Server) eventsByToken(c *Ctx) (any, error) {
	// The token holds the whole query. Clients send the original query's
	// parameters again with the page URL (Ghost's analytics fetcher does):
	// their values are checked as on the first page and then ignored, bar
	// limit, which sets this page's size.
	again, err := events.ParseQuery(c.P)
	if err != nil {
		return nil, err
	}
	q, err := events.ParseToken(c.Var("token"))
	if err != nil {
		return nil, err
	}
	if c.P.Get("limit") != "" {
		q.Limit = again.Limit
	}
	return s.eventsPage(c, q)
}

func (s *Server) eventsPage(c *Ctx, q events.Query) (any, error) {
	page, err := events.Fetch(c.R.Context(), s.Regional, c.Domain.Name, q)
	if err != nil {
		return nil, err
	}
	link := func(q events.Query) string {
		return s.PublicURL + "/v3/" + url.PathEscape(c.Domain.Name) + "/events/" + q.Token()
	}
	items := page.Items
	if items == nil {
		items = []json.RawMessage{}
	}
	return eventsPage{Items: items, Paging: mgapi.Paging{
		First: link(page.First), Last: link(page.Last), Next: link(page.Next), Previous: link(page.Previous),
	}}, nil
}

// queueStatus is GET /v3/{domain}/queue[?message-id=] (beyond Mailgun):
// what waits per destination and why, and one message's recipients.
func (s *Server) queueStatus(c *Ctx) (any, error) {
	c.P.Accept("message-id")
	id := strings.Trim(c.P.Get("message-id"), "<>")
	st, err := delivery.QueueStatus(c.R.Context(), s.Regional, c.Domain.Name, id, s.Now())
	if err == nil && s.DestinationHealth != nil {
		st.AddHealth(s.DestinationHealth())
	}
	return st, err
}
