package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/shaping"
	"github.com/salvo-email/salvo/internal/store"
)

// Logs paths: the event log of a domain, one message, the queue.
const (
	logsPath  = prefix + "/logs"
	queuePath = prefix + "/queue"
)

// logsRoutes registers the Logs section: pages, and a message's resend.
func (s *Server) logsRoutes() {
	s.page("GET "+logsPath, s.logsPage)
	s.page("GET "+logsPath+"/{domain}/messages/{key}", s.messagePage)
	s.page("GET "+logsPath+"/{domain}/messages/{key}/html", s.messageHTML)
	s.page("GET "+logsPath+"/{domain}/messages/{key}/attachments/{n}", s.messageAttachment)
	s.form("POST "+logsPath+"/{domain}/messages/{key}/resend", s.resendMessage)
	s.page("GET "+logsPath+"/{domain}/message", s.messageByID)
	s.page("GET "+logsPath+"/export", s.exportEvents)
	s.page("GET "+queuePath, s.queuePage)
}

// maxDomainChoices bounds the domain menus of the Logs and queue pages; a
// domain beyond it can still be asked for by name (?domain=).
const maxDomainChoices = 1000

// logsLimits are the page sizes offered; the first is the default.
var logsLimits = []int{50, 25, 100}

// eventTypes are the event types the filter offers.
var eventTypes = []string{events.Accepted, events.Delivered, events.Failed, events.Rejected, events.Opened,
	events.Clicked, events.Unsubscribed, events.Complained, events.Stored}

// logsForm is the Logs page's filter form as the URL carries it.
type logsForm struct {
	Domain, Event, Recipient, Tag string
	// Severity (temporary, permanent), Subject, Sender (the from filter)
	// and MessageID narrow further, as the Events API's filters.
	Severity, Subject, Sender, MessageID string
	// Begin and End are datetime-local values, read as UTC.
	Begin, End string
	Limit      int
	// Page is a page token from a previous/next link; it carries the
	// whole query, so the other fields only fill the form.
	Page string
}

func readLogsForm(v url.Values) logsForm {
	f := logsForm{
		Domain: strings.TrimSpace(v.Get("domain")), Event: v.Get("event"),
		Recipient: strings.TrimSpace(v.Get("recipient")), Tag: strings.TrimSpace(v.Get("tag")),
		Begin: v.Get("begin"), End: v.Get("end"), Page: v.Get("page"), Limit: logsLimits[0],
		Severity: v.Get("severity"), Subject: strings.TrimSpace(v.Get("subject")),
		Sender: strings.TrimSpace(v.Get("from")), MessageID: strings.Trim(strings.TrimSpace(v.Get("message-id")), "<>"),
	}
	if n, err := strconv.Atoi(v.Get("limit")); err == nil {
		for _, l := range logsLimits {
			if n == l {
				f.Limit = n
			}
		}
	}
	return f
}

// values is the form as URL parameters, without the page token.
func (f logsForm) values() url.Values {
	v := url.Values{"domain": {f.Domain}}
	for name, value := range map[string]string{"event": f.Event, "recipient": f.Recipient, "tag": f.Tag,
		"begin": f.Begin, "end": f.End, "severity": f.Severity, "subject": f.Subject, "from": f.Sender, "message-id": f.MessageID} {
		if value != "" {
			v.Set(name, value)
		}
	}
	if f.Limit != logsLimits[0] {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	return v
}

// query turns the form into an Events API query, newest first. The
// filters go through events.ParseQuery, so they are Mailgun's filter
// expressions and are checked the same way.
func (f logsForm) query() (events.Query, error) {
	if f.Page != "" {
		return events.ParseToken(f.Page)
	}
	p := url.Values{"limit": {strconv.Itoa(f.Limit)}}
	for name, value := range map[string]string{"event": f.Event, "recipient": f.Recipient, "tags": f.Tag,
		"severity": f.Severity, "subject": f.Subject, "from": f.Sender, "message-id": f.MessageID} {
		if value != "" {
			p.Set(name, value)
		}
	}
	q, err := events.ParseQuery(mgapi.NewParams(p))
	if err != nil {
		return q, err
	}
	begin, err := parseLocalTime(f.Begin, "From", false)
	if err != nil {
		return q, err
	}
	end, err := parseLocalTime(f.End, "To", true)
	if err != nil {
		return q, err
	}
	if !begin.IsZero() && !end.IsZero() && !end.After(begin) {
		return q, fault.Invalidf("The end of the time range is before its start.")
	}
	// [Begin, End) whatever the direction; newest first.
	q.Ascending = false
	if !begin.IsZero() {
		q.Begin = begin.UnixMicro()
	}
	if !end.IsZero() {
		q.End = end.UnixMicro()
	}
	return q, nil
}

// parseLocalTime reads a datetime-local value as UTC. An end is
// inclusive: "15:04" covers the whole minute.
func parseLocalTime(v, label string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []struct {
		format string
		step   time.Duration
	}{{"2006-01-02T15:04", time.Minute}, {"2006-01-02T15:04:05", time.Second}} {
		if t, err := time.Parse(layout.format, v); err == nil {
			if end {
				t = t.Add(layout.step)
			}
			return t, nil
		}
	}
	return time.Time{}, fault.Invalidf("%s %q is not a date and time such as 2025-01-31T14:30.", label, v)
}

// eventRow is one event as the Logs table shows it.
type eventRow struct {
	Time                        time.Time
	Event, Severity             string
	Recipient, Subject, Summary string
	Tags                        []string
	// MessageURL is the message's page: by its storage key, or by its
	// Message-ID for events that name no stored copy (opened, clicked);
	// "" when the event names neither.
	MessageURL string
	// Engagement is where an opened, clicked or unsubscribed event came
	// from (IP, client, device, link).
	Engagement string
	// JSON is the event as the Events API returns it.
	JSON string
}

func newEventRow(domain string, raw json.RawMessage) (eventRow, bool) {
	var e mgapi.Event
	if json.Unmarshal(raw, &e) != nil {
		return eventRow{}, false
	}
	r := eventRow{Event: e.Event, Severity: e.Severity, Recipient: e.Recipient, Tags: e.Tags,
		Time: time.UnixMicro(int64(e.Timestamp*1e6 + 0.5)).UTC(), Summary: statusSummary(&e)}
	if e.Message != nil {
		r.Subject = e.Message.Headers.Subject
	}
	if e.Storage != nil && e.Storage.Key != "" {
		r.MessageURL = messagePath(domain, e.Storage.Key)
	} else if e.Message != nil && e.Message.Headers.MessageID != "" {
		r.MessageURL = messageByIDPath(domain, e.Message.Headers.MessageID)
	}
	r.Engagement = engagementSummary(&e)
	r.JSON = prettyJSON(raw)
	return r, true
}

// statusSummary is the one line that says how a delivery went: the SMTP
// reply, the MX host, the attempt and when the next one comes.
func statusSummary(e *mgapi.Event) string {
	var parts []string
	if ds := e.DeliveryStatus; ds != nil {
		reply := strings.TrimSpace(strings.Join(nonEmpty(codeText(ds.Code), ds.EnhancedCode, ds.Message), " "))
		parts = append(parts, nonEmpty(reply, ds.MXHost)...)
		if ds.AttemptNo > 0 {
			parts = append(parts, "attempt "+strconv.Itoa(ds.AttemptNo))
		}
		if ds.RetrySeconds > 0 {
			parts = append(parts, "retry in "+(time.Duration(ds.RetrySeconds)*time.Second).String())
		}
	}
	if e.Reason != "" && e.Event == events.Failed {
		parts = append(parts, "reason "+e.Reason)
	}
	if e.Event == events.Accepted && e.Method != "" {
		parts = append(parts, "queued via "+e.Method)
	}
	return strings.Join(parts, " · ")
}

func codeText(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

func nonEmpty(vs ...string) []string {
	out := vs[:0:0]
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// logsData is the Logs page.
type logsData struct {
	Form       logsForm
	Domains    []store.Domain
	EventTypes []string
	Limits     []int
	Rows       []eventRow
	// Error is why the filters were refused.
	Error    string
	Searched bool
	// Links to the neighbour pages and to the first page of the search,
	// "" for none.
	Newer, Older, Newest string
	// Paged is set on any page but the first.
	Paged bool
	// Histogram counts the search's events over its range (nil: none).
	Histogram *histogram
	// ExportCSV and ExportJSON download the search; ExportCap is their
	// row cap.
	ExportCSV, ExportJSON string
	ExportCap             int
}

func (s *Server) logsPage(rq *request) error {
	d := logsData{Form: readLogsForm(rq.r.URL.Query()), EventTypes: eventTypes, Limits: logsLimits}
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Form.Domain); err == nil && d.Form.Domain != "" {
		err = s.searchEvents(rq, &d)
	}
	if err != nil {
		// A refused filter is shown above the form; anything else,
		// such as an unknown domain, is an error page.
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid {
			return err
		}
		d.Error = f.Message
		return s.showStatus(rq, http.StatusBadRequest, "logs", "Logs", "logs", d)
	}
	return s.show(rq, "logs", "Logs", "logs", d)
}

// searchEvents runs the form's search: one page of events, newest first,
// and links to its neighbours. A page that is not full has no neighbour
// further in its direction.
func (s *Server) searchEvents(rq *request, d *logsData) error {
	f := d.Form
	q, err := f.query()
	if err != nil {
		return err
	}
	page, err := events.Fetch(rq.r.Context(), s.Regional, f.Domain, q)
	if err != nil {
		return err
	}
	d.Searched, d.Paged = true, q.Cursor != nil
	for _, raw := range page.Items {
		if r, ok := newEventRow(f.Domain, raw); ok {
			d.Rows = append(d.Rows, r)
		}
	}
	link := func(q events.Query) string {
		v := f.values()
		v.Set("page", q.Token())
		return logsPath + "?" + v.Encode()
	}
	full := len(page.Items) == q.Limit
	if (!q.Reverse && full) || (q.Reverse && d.Paged) {
		d.Older = link(page.Next)
	}
	if (q.Reverse && full) || (!q.Reverse && d.Paged) {
		d.Newer = link(page.Previous)
	}
	if d.Paged {
		d.Newest = logsPath + "?" + f.values().Encode()
	}
	v := f.values()
	v.Set("format", "csv")
	d.ExportCSV = logsPath + "/export?" + v.Encode()
	v.Set("format", "json")
	d.ExportJSON, d.ExportCap = logsPath+"/export?"+v.Encode(), maxExportRows
	d.Histogram, err = s.searchHistogram(rq, f)
	return err
}

// domainChoices lists the domains for a menu and settles on the one asked
// for (which must exist) or else the first.
func (s *Server) domainChoices(rq *request, name *string) ([]store.Domain, error) {
	ctx := rq.r.Context()
	doms, _, err := s.Domains.AccountList(ctx, rq.tenant.Owner(), 0, maxDomainChoices)
	if err != nil {
		return nil, err
	}
	if *name == "" {
		if len(doms) > 0 {
			*name = doms[0].Name
		}
		return doms, nil
	}
	dom, err := s.Domains.Get(ctx, *name)
	if errors.Is(err, store.ErrNotFound) {
		return doms, fault.NotFoundf("There is no domain %s.", *name)
	}
	*name = dom.Name
	return doms, err
}

// queueData is the queue page: what waits per destination and why.
type queueData struct {
	Domain       string // "" for every domain
	Domains      []store.Domain
	Destinations []destinationRow
	// Shaping is the node's traffic shaping in force (default-group
	// entries for this queue's destinations only).
	Shaping []shapingRow
	Now     time.Time
}

// shapingRow is a shaping state with its pause's end (zero: none).
type shapingRow struct {
	S     shaping.State
	Until time.Time
}

type destinationRow struct {
	Name                   string
	Waiting, Due, InFlight int
	Next                   time.Time
	LastError              string
	// Down: the node's delivery engine cannot reach the destination
	// (State "backing-off" until DownUntil, or "probing").
	Down             bool
	State, DownError string
	DownUntil        time.Time
}

func (s *Server) queuePage(rq *request) error {
	d := queueData{Domain: strings.TrimSpace(rq.r.URL.Query().Get("domain")), Now: s.Now().UTC()}
	all := d.Domain == ""
	doms, err := s.domainChoices(rq, &d.Domain)
	if err != nil {
		return err
	}
	if all {
		d.Domain = ""
	}
	d.Domains = doms
	st, err := delivery.QueueStatus(rq.r.Context(), s.Regional, d.Domain, "", d.Now)
	if err != nil {
		return err
	}
	if s.DestinationHealth != nil {
		st.AddHealth(s.DestinationHealth())
	}
	for _, dst := range st.Destinations {
		r := destinationRow{Name: dst.Destination, Waiting: dst.Waiting, Due: dst.Due, InFlight: dst.InFlight, LastError: dst.LastError}
		if dst.NextAttemptAt != nil {
			r.Next = time.Time(*dst.NextAttemptAt)
		}
		if dst.DownUntil != nil {
			r.Down, r.State, r.DownError, r.DownUntil = true, dst.State, dst.DownError, time.Time(*dst.DownUntil)
		}
		d.Destinations = append(d.Destinations, r)
	}
	if s.Shaping != nil {
		st.AddShaping(s.Shaping())
		for _, sh := range st.Shaping {
			r := shapingRow{S: sh}
			if sh.PausedUntil != nil {
				r.Until = *sh.PausedUntil
			}
			d.Shaping = append(d.Shaping, r)
		}
	}
	return s.show(rq, "queue", "Queue", "queue", d)
}

// messagePath is the dashboard page of a stored message.
func messagePath(domain, key string) string {
	return logsPath + "/" + url.PathEscape(domain) + "/messages/" + url.PathEscape(key)
}
