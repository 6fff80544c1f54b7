package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// eventsPage is the Events API response; items are the stored JSON.
type eventsPage struct {
	Items  []json.RawMessage `json:"items"`
	Paging mgapi.Paging      `json:"paging"`
	parts  []events.Part     // see events.Page.Parts
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
	page, err := events.FetchSplit(c.R.Context(), s.Regional, c.Domain.Name, q)
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
	ep := eventsPage{Items: items, parts: page.Parts, Paging: mgapi.Paging{
		First: link(page.First), Last: link(page.Last), Next: link(page.Next), Previous: link(page.Previous),
	}}
	if c.W == nil {
		ep.join() // handlers' values are encoded whole
		return ep, nil
	}
	ep.write(c.W)
	return nil, nil
}

// join puts the items' parts back (for a caller that encodes the page whole).
func (p *eventsPage) join() {
	for i, pt := range p.parts {
		p.Items[i] = store.Event{Data: p.Items[i], Part: pt.Part, PartAt: pt.At}.JSON()
	}
	p.parts = nil
}

// write writes the page as writeJSON would, without the encoder's pass
// over every item: the items are the JSON json.Marshal wrote when the
// event was recorded (compact, HTML-escaped), which the encoder would
// only copy, after scanning it. A page of events whose message has a
// 1,000-address To header is 8.7 MB: it is streamed through a small
// buffer with its length known, not copied into one more page-sized
// buffer first.
func (p eventsPage) write(w http.ResponseWriter) {
	var pb bytes.Buffer
	enc := json.NewEncoder(&pb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Paging); err != nil {
		p.join()
		writeJSON(w, http.StatusOK, p)
		return
	}
	paging := bytes.TrimSuffix(pb.Bytes(), []byte("\n"))
	n := len(`{"items":[],"paging":}`+"\n") + len(paging)
	for i, it := range p.Items {
		n += len(it)
		if i > 0 {
			n++
		}
		if i < len(p.parts) {
			n += len(p.parts[i].Part)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.WriteString(`{"items":[`)
	for i, it := range p.Items {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		if i < len(p.parts) && p.parts[i].Part != "" {
			at := p.parts[i].At
			_, _ = bw.Write(it[:at])
			_, _ = bw.WriteString(p.parts[i].Part)
			_, _ = bw.Write(it[at:])
			continue
		}
		_, _ = bw.Write(it)
	}
	_, _ = bw.WriteString(`],"paging":`)
	_, _ = bw.Write(paging)
	_, _ = bw.WriteString("}\n")
	_ = bw.Flush()
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
