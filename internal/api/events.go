package api

import (
	"bytes"
	"encoding/json"
	"net/http"
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
	ep := eventsPage{Items: items, Paging: mgapi.Paging{
		First: link(page.First), Last: link(page.Last), Next: link(page.Next), Previous: link(page.Previous),
	}}
	if c.W == nil {
		return ep, nil
	}
	ep.write(c.W)
	return nil, nil
}

// write writes the page as writeJSON would, without the encoder's pass
// over every item: the items are the JSON json.Marshal wrote when the
// event was recorded (compact, HTML-escaped), which the encoder would
// only copy, after scanning it, and a page of events whose message has a
// 1,000-address To header is 10 MB.
func (p eventsPage) write(w http.ResponseWriter) {
	var pb bytes.Buffer
	enc := json.NewEncoder(&pb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Paging); err != nil {
		writeJSON(w, http.StatusOK, p)
		return
	}
	paging := bytes.TrimSuffix(pb.Bytes(), []byte("\n"))
	n := len(`{"items":[],"paging":}`+"\n") + len(paging)
	for _, it := range p.Items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	b = append(append(append(b, `],"paging":`...), paging...), "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
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
	if err == nil && s.Shaping != nil {
		st.AddShaping(s.Shaping())
	}
	return st, err
}
