package testutil

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
)

// WebhookPost is one POST a WebhookReceiver got.
type WebhookPost struct {
	ContentType string
	Signature   mailgun.Signature
	// EventData is the "event-data" member as sent.
	EventData json.RawMessage
	// ID, Event and Severity are read from EventData.
	ID, Event, Severity string
	// Verified: the signature checks out with the documented algorithm
	// (hex HMAC-SHA256 of timestamp+token, docs/mailgun-contract.md §8.4) and with mailgun-go's
	// VerifyWebhookSignature; Parsed: mailgun-go's ParseEvent reads the
	// event.
	Verified, Parsed bool
	// Problem describes what was wrong with the request, "" if nothing.
	Problem string
	// Status is what the receiver answered (0 when the client gave up).
	Status int
}

// WebhookReceiver is a real HTTP server on 127.0.0.1 that records the
// webhook POSTs it gets and checks each like a Mailgun webhook receiver
// would. Respond decides each answer; by default 200.
type WebhookReceiver struct {
	URL string

	t     testing.TB
	srv   *httptest.Server
	mg    *mailgun.MailgunImpl
	key   []byte
	mu    sync.Mutex
	posts []WebhookPost
	// respond is given the request and the post (numbered from 0 among
	// posts of that event id) and returns the status; it may block.
	respond func(r *http.Request, p WebhookPost, nth int) int
	notify  chan struct{}
}

// StartWebhookReceiver starts a receiver that verifies signatures with
// signingKey; it stops when t ends.
func StartWebhookReceiver(t testing.TB, signingKey string) *WebhookReceiver {
	t.Helper()
	w := &WebhookReceiver{t: t, key: []byte(signingKey), notify: make(chan struct{}, 1),
		mg: mailgun.NewMailgun("example.com", "key-unused")}
	w.mg.SetWebhookSigningKey(signingKey)
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	w.URL = w.srv.URL + "/hook"
	t.Cleanup(w.srv.Close)
	return w
}

// Respond sets how the receiver answers: f gets the request, the post and
// how many posts of the same event came before, and returns the status.
func (w *WebhookReceiver) Respond(f func(r *http.Request, p WebhookPost, nth int) int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.respond = f
}

func (w *WebhookReceiver) serve(rw http.ResponseWriter, r *http.Request) {
	p := w.check(r)
	w.mu.Lock()
	nth := 0
	for _, q := range w.posts {
		if q.ID == p.ID {
			nth++
		}
	}
	respond := w.respond
	w.mu.Unlock()
	p.Status = http.StatusOK
	if respond != nil {
		p.Status = respond(r, p, nth)
	}
	if r.Context().Err() != nil {
		p.Status = 0 // the client gave up
	}
	w.mu.Lock()
	w.posts = append(w.posts, p)
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
	if p.Status != 0 {
		rw.WriteHeader(p.Status)
		fmt.Fprintf(rw, "answered %d\n", p.Status)
	}
}

// check reads and verifies one request.
func (w *WebhookReceiver) check(r *http.Request) WebhookPost {
	p := WebhookPost{ContentType: r.Header.Get("Content-Type")}
	body, err := io.ReadAll(r.Body)
	var payload mailgun.WebhookPayload
	switch {
	case r.Method != http.MethodPost:
		p.Problem = "method " + r.Method
	case err != nil:
		p.Problem = "read body: " + err.Error()
	case json.Unmarshal(body, &payload) != nil:
		p.Problem = "body is not webhook JSON: " + string(body)
	}
	if p.Problem != "" {
		return p
	}
	var raw struct {
		EventData json.RawMessage `json:"event-data"`
	}
	_ = json.Unmarshal(body, &raw)
	var ev struct{ ID, Event, Severity string }
	_ = json.Unmarshal(raw.EventData, &ev)
	p.Signature, p.EventData, p.ID, p.Event, p.Severity = payload.Signature, raw.EventData, ev.ID, ev.Event, ev.Severity

	mac := hmac.New(sha256.New, w.key)
	mac.Write([]byte(p.Signature.TimeStamp + p.Signature.Token))
	documented := hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(p.Signature.Signature))
	sdk, err := w.mg.VerifyWebhookSignature(p.Signature)
	p.Verified = documented && sdk && err == nil
	_, err = mailgun.ParseEvent(raw.EventData)
	p.Parsed = err == nil
	if !p.Verified || !p.Parsed {
		p.Problem = fmt.Sprintf("documented verification %v, mailgun-go verification %v, mailgun-go parse error %v", documented, sdk, err)
	}
	return p
}

// Posts returns the posts received so far.
func (w *WebhookReceiver) Posts() []WebhookPost {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebhookPost(nil), w.posts...)
}

// WaitPosts waits until at least n posts arrived and returns them all;
// it fails t after timeout.
func (w *WebhookReceiver) WaitPosts(t testing.TB, n int, timeout time.Duration) []WebhookPost {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if ps := w.Posts(); len(ps) >= n {
			return ps
		}
		select {
		case <-w.notify:
		case <-deadline:
			t.Fatalf("webhook receiver: %d posts after %v, want %d: %+v", len(w.Posts()), timeout, n, w.Posts())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
