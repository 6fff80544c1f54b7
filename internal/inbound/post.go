package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// postJob sends one route POST (a forward to a URL, or a store
// notification) and decides what follows: done on 2xx, done for good on
// 406, else another try on the webhook schedule until MaxAge.
func (s *Service) postJob(j store.InboundJob) (store.InboundResult, bool) {
	var p postPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.deps.Log.Error("route POST job with a bad payload; dropped", "job", j.ID, "err", err)
		return store.InboundResult{Done: true}, true
	}
	host, ok := s.acquireHost(p.URL)
	if !ok {
		return store.InboundResult{}, false
	}
	defer s.releaseHost(host)
	m, err := s.deps.Store.InboundMessage(s.ctx, j.MessageKey)
	if errors.Is(err, store.ErrNotFound) {
		return store.InboundResult{Done: true}, true
	}
	if err != nil {
		return s.retryLater(j, err), true
	}
	pm, err := parse(m.Body)
	if err != nil {
		pm = &parsed{}
	}
	body, contentType, err := s.postBody(j.Domain, m, pm, p)
	if err != nil {
		return s.retryLater(j, err), true
	}
	start := s.deps.Now()
	status, detail := s.post(p.URL, body, contentType)
	info := messageInfo(m, pm)
	info.Domain = j.Domain
	return s.postOutcome(j, &info, p, status, detail, s.deps.Now().Sub(start)), true
}

// postBody builds the signed multipart body of a POST.
func (s *Service) postBody(domain string, m store.InboundMessage, pm *parsed, p postPayload) ([]byte, string, error) {
	key, err := s.deps.Keys.SigningKey(s.ctx)
	if err != nil {
		return nil, "", err
	}
	var f *form
	switch {
	case p.Notify:
		url := s.PublicURL + "/v3/domains/" + domain + "/messages/" + p.StoredKey
		f = parsedForm(pm, p.Recipient, m.Sender, url, false)
		f.add("domain", domain)
		f.add("message-url", url)
	case strings.HasSuffix(strings.SplitN(p.URL, "?", 2)[0], "mime"):
		f = mimeForm(m.Body, pm, p.Recipient, m.Sender)
	default:
		f = parsedForm(pm, p.Recipient, m.Sender, "", true)
	}
	sig := webhooks.Sign([]byte(key), s.deps.Now())
	f.add("timestamp", sig.Timestamp)
	f.add("token", sig.Token)
	f.add("signature", sig.Signature)
	return f.encode()
}

// post sends the request; status is 0 when no response came.
func (s *Service) post(url string, body []byte, contentType string) (int, string) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "salvo-routes")
	resp, err := s.deps.HTTP.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	// Only a short, printable excerpt of the answer is kept: it is shown
	// in events, and the URL may be anything a route's owner chose.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, printable(snippet)
}

// postOutcome turns a POST's status into the job's next state and event.
func (s *Service) postOutcome(j store.InboundJob, info *events.MessageInfo, p postPayload, status int, detail string,
	took time.Duration) store.InboundResult {
	now := s.deps.Now().UTC()
	ds := mgapi.DeliveryStatus{Code: status, Message: http.StatusText(status), AttemptNo: j.Attempts,
		SessionSeconds: took.Seconds(), Description: "POST " + p.URL}
	if status >= 200 && status < 300 {
		return store.InboundResult{Done: true, Events: []store.Event{events.NewRouteDelivered(info, p.Recipient, p.URL, p.Route, ds, now)}}
	}
	if status == 0 {
		ds.Message = "no response"
	}
	if detail != "" {
		ds.Description += ": " + detail
	}
	if status == http.StatusNotAcceptable {
		return store.InboundResult{Done: true, LastError: "406 Not Acceptable",
			Events: []store.Event{events.NewRouteFailed(info, p.Recipient, p.URL, p.Route, events.Permanent, events.ReasonGeneric, ds, now)}}
	}
	next := s.retryAt(j.CreatedAt, j.Attempts)
	lastErr := fmt.Sprintf("%d %s", status, ds.Message)
	if next.IsZero() {
		return store.InboundResult{Done: true, LastError: lastErr,
			Events: []store.Event{events.NewRouteFailed(info, p.Recipient, p.URL, p.Route, events.Permanent, events.ReasonOld, ds, now)}}
	}
	ds.RetrySeconds = int(next.Sub(now).Seconds())
	return store.InboundResult{NextAttemptAt: next, LastError: lastErr,
		Events: []store.Event{events.NewRouteFailed(info, p.Recipient, p.URL, p.Route, events.Temporary, events.ReasonGeneric, ds, now)}}
}

// printable keeps valid, printable text of an answer's start.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
