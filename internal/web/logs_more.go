package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// The Logs page's extras: the message of any event (by its stored copy's
// key or, for engagement events that name none, by Message-ID), the
// event's JSON, a histogram of the search and its export.

// maxExportRows bounds an export (CSV or JSON) of a search, and
// maxHistogramEvents how many events the histogram counts; past either,
// the newest events are the ones included, and the page says so.
const (
	maxExportRows      = 50_000
	maxHistogramEvents = 20_000
	// histogramBars is how many bars the histogram has.
	histogramBars = 24
)

// messageByID finds the stored message of a Message-ID (an opened or
// clicked event names no storage key) and goes to its page.
func (s *Server) messageByID(rq *request) error {
	domain, id := rq.r.PathValue("domain"), strings.Trim(strings.TrimSpace(rq.r.URL.Query().Get("id")), "<>")
	if id == "" {
		return fault.Invalidf("Which message? The link names no Message-ID.")
	}
	if _, err := s.Domains.Get(rq.r.Context(), domain); err != nil {
		return err
	}
	evs, err := s.Regional.Events(rq.r.Context(), store.EventQuery{Domain: domain, MessageID: id, Ascending: true, Limit: 50})
	if err != nil {
		return err
	}
	for _, e := range evs {
		var w mgapi.Event
		if json.Unmarshal(e.Data, &w) == nil && w.Storage != nil && w.Storage.Key != "" {
			http.Redirect(rq.w, rq.r, messagePath(domain, w.Storage.Key), http.StatusSeeOther)
			return nil
		}
	}
	return errMessageGone
}

func messageByIDPath(domain, id string) string {
	return logsPath + "/" + url.PathEscape(domain) + "/message?" + url.Values{"id": {id}}.Encode()
}

// engagementSummary says where an opened, clicked or unsubscribed event
// came from: the address, the client and device, the link.
func engagementSummary(e *mgapi.Event) string {
	var parts []string
	if e.IP != "" {
		parts = append(parts, "IP "+e.IP)
	}
	if c := e.ClientInfo; c != nil {
		client := strings.Join(nonEmpty(c.ClientName, paren(c.ClientOS)), " ")
		parts = append(parts, nonEmpty(client, c.ClientType, c.DeviceType)...)
		if c.Bot != "" {
			parts = append(parts, "bot "+c.Bot)
		}
	}
	if e.URL != "" {
		parts = append(parts, e.URL)
	}
	return strings.Join(parts, " · ")
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// prettyJSON indents an event for the page.
func prettyJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// eachEvent walks the events of the form's search (its filters, not its
// page), newest first, and gives fn at most limit of them. more reports
// that the search had events past the limit. A walk ends at the first
// empty page: the Events API's pages end early when its filters reject
// many events in a row (events.Fetch's scan budget), so a very sparse
// filter over a long history may stop before its oldest match.
func (s *Server) eachEvent(rq *request, f logsForm, limit int, fn func(raw json.RawMessage, e *mgapi.Event) error) (n int, more bool, err error) {
	f.Page, f.Limit = "", logsLimits[0]
	q, err := f.query()
	if err != nil {
		return 0, false, err
	}
	q.Limit = 300 // the Events API's largest page
	for {
		page, err := events.Fetch(rq.r.Context(), s.Regional, f.Domain, q)
		if err != nil {
			return n, false, err
		}
		if len(page.Items) == 0 {
			return n, false, nil
		}
		for _, raw := range page.Items {
			if n == limit {
				return n, true, nil
			}
			var e mgapi.Event
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			if err := fn(raw, &e); err != nil {
				return n, false, err
			}
			n++
		}
		q = page.Next
	}
}

func eventTime(e *mgapi.Event) time.Time {
	return time.UnixMicro(int64(e.Timestamp*1e6 + 0.5)).UTC()
}

// histogram is the bars of the Logs page: how many events of the search
// fell in each slice of its range.
type histogram struct {
	Width, Height float64
	Bars          []histogramBar
	// Top is the largest bar's count; From and To the range shown.
	Top      int64
	From, To time.Time
	Total    int
	// Capped: only the newest maxHistogramEvents were counted.
	Capped bool
	Step   string
}

type histogramBar struct {
	X, Y, W, H float64
	Start      time.Time
	Count      int64
}

// histogramSteps are the bar widths offered, the smallest that gives at
// most histogramBars bars is used.
var histogramSteps = []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// newHistogram lays out counts of times over [from, to).
func newHistogram(times []time.Time, from, to time.Time) histogram {
	h := histogram{Width: chartW, Height: 120, From: from, To: to, Total: len(times)}
	span := to.Sub(from)
	step := histogramSteps[len(histogramSteps)-1]
	for _, s := range histogramSteps {
		if span <= s*histogramBars {
			step = s
			break
		}
	}
	h.Step = stepLabel(step)
	start := from.Truncate(step)
	n := int(to.Sub(start)/step) + 1
	n = min(max(n, 1), 400)
	counts := make([]int64, n)
	for _, t := range times {
		if i := int(t.Sub(start) / step); i >= 0 && i < n {
			counts[i]++
		}
	}
	for _, c := range counts {
		h.Top = max(h.Top, c)
	}
	const left, right, top, bottom = chartLeft, chartRight, 8.0, 100.0
	w := (right - left) / float64(n)
	for i, c := range counts {
		bh := 0.0
		if h.Top > 0 {
			bh = round1(float64(c) / float64(h.Top) * (bottom - top))
		}
		h.Bars = append(h.Bars, histogramBar{X: round1(left + float64(i)*w), W: round1(max(w-1, 0.5)), Y: round1(bottom - bh), H: bh,
			Start: start.Add(time.Duration(i) * step), Count: c})
	}
	return h
}

func stepLabel(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		days := int(d / (24 * time.Hour))
		if days == 1 {
			return "day"
		}
		return strconv.Itoa(days) + " days"
	case d >= time.Hour:
		if d == time.Hour {
			return "hour"
		}
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	case d == time.Minute:
		return "minute"
	case d == time.Second:
		return "second"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " seconds"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// searchHistogram counts the search's events over its range: the form's
// From and To, or else from its oldest event counted to now.
func (s *Server) searchHistogram(rq *request, f logsForm) (*histogram, error) {
	var times []time.Time
	_, capped, err := s.eachEvent(rq, f, maxHistogramEvents, func(_ json.RawMessage, e *mgapi.Event) error {
		times = append(times, eventTime(e))
		return nil
	})
	if err != nil || len(times) == 0 {
		return nil, err
	}
	from, _ := parseLocalTime(f.Begin, "From", false)
	to, _ := parseLocalTime(f.End, "To", true)
	if from.IsZero() || capped {
		from = times[len(times)-1] // newest first: the oldest counted
	}
	if to.IsZero() {
		to = s.Now().UTC()
	}
	if !to.After(from) {
		to = from.Add(time.Minute)
	}
	h := newHistogram(times, from, to)
	h.Capped = capped
	return &h, nil
}

// exportColumns are the CSV export's columns.
var exportColumns = []string{"timestamp", "event", "severity", "recipient", "message-id", "from", "subject", "tags",
	"code", "enhanced-code", "reply", "mx-host", "attempt", "reason", "ip", "client", "device", "url", "storage-key"}

// exportEvents streams the search's events (up to maxExportRows, newest
// first) as CSV or as a JSON array of the Events API's items.
func (s *Server) exportEvents(rq *request) error {
	f := readLogsForm(rq.r.URL.Query())
	if _, err := s.Domains.Get(rq.r.Context(), f.Domain); err != nil {
		return err
	}
	if _, err := f.query(); err != nil {
		return err
	}
	format := rq.r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		return fault.Invalidf("The export format is csv or json, not %q.", format)
	}
	h := rq.w.Header()
	name := "events-" + f.Domain + "-" + s.Now().UTC().Format("20060102T150405Z") + "." + format
	h.Set("Content-Disposition", `attachment; filename="`+strings.NewReplacer(`"`, "", "\\", "").Replace(name)+`"`)
	h.Set("Content-Security-Policy", attachmentPolicy)
	h.Set("X-Salvo-Export-Cap", strconv.Itoa(maxExportRows))
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		return s.exportCSV(rq, f)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return s.exportJSON(rq, f)
}

// errExportCut ends an export whose response had begun: the status is
// sent, so the error can only be logged and the body cut short.
var errExportCut = errors.New("web: export cut short")

func (s *Server) exportCSV(rq *request, f logsForm) error {
	w := csv.NewWriter(rq.w)
	if err := w.Write(exportColumns); err != nil {
		return err
	}
	_, more, err := s.eachEvent(rq, f, maxExportRows, func(_ json.RawMessage, e *mgapi.Event) error {
		rec := make([]string, 0, len(exportColumns))
		var msgID, from, subject string
		if e.Message != nil {
			msgID, from, subject = e.Message.Headers.MessageID, e.Message.Headers.From, e.Message.Headers.Subject
		}
		var code, enhanced, reply, mx, attempt string
		if ds := e.DeliveryStatus; ds != nil {
			code, enhanced, reply, mx = codeText(ds.Code), ds.EnhancedCode, ds.Message, ds.MXHost
			if ds.AttemptNo > 0 {
				attempt = strconv.Itoa(ds.AttemptNo)
			}
		}
		var client, device, key string
		if c := e.ClientInfo; c != nil {
			client, device = strings.Join(nonEmpty(c.ClientName, paren(c.ClientOS)), " "), c.DeviceType
		}
		if e.Storage != nil {
			key = e.Storage.Key
		}
		rec = append(rec, eventTime(e).Format(time.RFC3339Nano), e.Event, e.Severity, e.Recipient, msgID, from, subject,
			strings.Join(e.Tags, " "), code, enhanced, reply, mx, attempt, e.Reason, e.IP, client, device, e.URL, key)
		for i, v := range rec {
			rec[i] = csvSafe(v)
		}
		if err := w.Write(rec); err != nil {
			return errExportCut
		}
		return nil
	})
	if more {
		_ = w.Write([]string{"# cut at " + strconv.Itoa(maxExportRows) + " rows: narrow the search for the rest"})
	}
	w.Flush()
	return s.exportEnd(rq, err, w.Error())
}

// csvSafe keeps a spreadsheet from reading a value as a formula (CSV
// injection): one that starts with = + - @ or a tab/CR gets a leading '.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) exportJSON(rq *request, f logsForm) error {
	if _, err := rq.w.Write([]byte("[")); err != nil {
		return nil
	}
	first := true
	_, more, err := s.eachEvent(rq, f, maxExportRows, func(raw json.RawMessage, _ *mgapi.Event) error {
		sep := ",\n"
		if first {
			sep, first = "\n", false
		}
		if _, err := rq.w.Write(append([]byte(sep), raw...)); err != nil {
			return errExportCut
		}
		return nil
	})
	if err == nil {
		_, _ = rq.w.Write([]byte("\n]\n"))
	}
	if more {
		s.Log.Info("logs export cut at its row cap", "rows", maxExportRows, "user_id", rq.ses.User.ID)
	}
	return s.exportEnd(rq, err, nil)
}

// exportEnd logs an export that failed once its response had begun (the
// body is then cut short: a CSV without its last rows, a JSON array
// without its closing bracket).
func (s *Server) exportEnd(rq *request, err, werr error) error {
	if err == nil {
		err = werr
	}
	if err != nil && !errors.Is(err, errExportCut) {
		s.Log.Error("logs export failed after it began", "err", err, "user_id", rq.ses.User.ID)
	}
	return nil
}
