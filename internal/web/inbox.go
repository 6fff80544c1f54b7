package web

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// The Inbox shows what capture mode (--capture) kept instead of sending:
// one row per recipient's copy, newest first, read from the delivered
// events whose delivery-status names the capture (delivery.CaptureHost).
// Each row opens the copy on the message page (sandboxed preview,
// headers, raw download). The list part of the page polls itself
// (app.js, data-poll), so new mail shows up without a reload.
const inboxPath = prefix + "/inbox"

// Inbox bounds: rows shown, and delivered events read to find them (a
// node that also delivered for real has events that are not captures).
const (
	inboxRows     = 100
	inboxScan     = 2000
	inboxPageSize = 300
	// inboxPoll is how often the list reads itself again, in ms.
	inboxPoll = 2000
)

func (s *Server) inboxRoutes() {
	s.page("GET "+inboxPath, s.inboxPage)
	s.page("GET "+logsPath+"/{domain}/messages/{key}/raw", s.messageRaw)
}

// inboxData is the Inbox page.
type inboxData struct {
	Capture    bool
	Domain     string
	Domains    []store.Domain
	Recipient  string
	Rows       []inboxRow
	Recipients []inboxRecipient
	Poll       int
	// More is set when older captures were left out.
	More bool
}

type inboxRow struct {
	Time                        time.Time
	Recipient, From, Subject    string
	MessageURL, RawURL, RcptURL string
}

// inboxRecipient is one recipient of the rows, with its count.
type inboxRecipient struct {
	Address, URL string
	Count        int
	Current      bool
}

func (s *Server) inboxPage(rq *request) error {
	v := rq.r.URL.Query()
	d := inboxData{Capture: s.Capture, Domain: strings.TrimSpace(v.Get("domain")),
		Recipient: strings.TrimSpace(v.Get("recipient")), Poll: inboxPoll}
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Domain); err != nil {
		return err
	}
	if d.Domain != "" {
		if err := s.captured(rq, &d); err != nil {
			return err
		}
	}
	return s.show(rq, "inbox", "Inbox", "inbox", d)
}

// captured fills d with the domain's captured copies, newest first,
// optionally of one recipient.
func (s *Server) captured(rq *request, d *inboxData) error {
	p := url.Values{"event": {events.Delivered}, "limit": {strconv.Itoa(inboxPageSize)}}
	if d.Recipient != "" {
		p.Set("recipient", d.Recipient)
	}
	q, err := events.ParseQuery(mgapi.NewParams(p))
	if err != nil {
		return err
	}
	q.Ascending = false
	counts := map[string]int{}
	var order []string
	for scanned := 0; scanned < inboxScan; {
		page, err := events.Fetch(rq.r.Context(), s.Regional, d.Domain, q)
		if err != nil {
			return err
		}
		scanned += len(page.Items)
		for _, raw := range page.Items {
			r, ok := capturedRow(d.Domain, raw)
			if !ok {
				continue
			}
			if len(d.Rows) == inboxRows {
				d.More = true
				break
			}
			d.Rows = append(d.Rows, r)
			if counts[r.Recipient] == 0 {
				order = append(order, r.Recipient)
			}
			counts[r.Recipient]++
		}
		if d.More || len(page.Items) < q.Limit {
			break
		}
		q = page.Next
	}
	for _, a := range order {
		d.Recipients = append(d.Recipients, inboxRecipient{Address: a, Count: counts[a],
			URL: inboxURL(d.Domain, a), Current: strings.EqualFold(a, d.Recipient)})
	}
	return nil
}

// capturedRow is the row of a delivered event when it is a capture.
func capturedRow(domain string, raw json.RawMessage) (inboxRow, bool) {
	var e mgapi.Event
	if json.Unmarshal(raw, &e) != nil || e.DeliveryStatus == nil || e.DeliveryStatus.MXHost != delivery.CaptureHost ||
		e.Storage == nil || e.Storage.Key == "" {
		return inboxRow{}, false
	}
	r := inboxRow{Recipient: e.Recipient, Time: time.UnixMicro(int64(e.Timestamp*1e6 + 0.5)).UTC(),
		MessageURL: messagePath(domain, e.Storage.Key), RcptURL: inboxURL(domain, e.Recipient)}
	r.RawURL = r.MessageURL + "/raw"
	if e.Message != nil {
		r.From, r.Subject = e.Message.Headers.From, e.Message.Headers.Subject
	}
	return r, true
}

func inboxURL(domain, rcpt string) string {
	v := url.Values{"domain": {domain}}
	if rcpt != "" {
		v.Set("recipient", rcpt)
	}
	return inboxPath + "?" + v.Encode()
}

// messageRaw serves a stored message as it was stored (for a captured
// copy: as it would have been sent) as a .eml download.
func (s *Server) messageRaw(rq *request) error {
	sm, err := s.loadMessage(rq)
	if err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("Content-Type", "message/rfc822")
	h.Set("Content-Disposition", `attachment; filename="`+sm.Key+`.eml"`)
	h.Set("Content-Security-Policy", attachmentPolicy)
	h.Set("Content-Length", strconv.Itoa(len(sm.Body)))
	_, err = rq.w.Write(sm.Body)
	return err
}
