package webhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
)

// A webhook test (PUT /v3/domains/{d}/webhooks/{kind}/test, which
// mailgun.js calls, and the dashboard's Test button): one POST of a
// sample event of a kind, signed like every webhook POST, to a URL, and
// what the URL answered. It goes through the client given, the
// egress-checked one the dispatcher uses, so a test reaches no address a
// real event could not; it is not retried and leaves no attempt behind.

// SampleEvent is an event of kind as a real one of domain would look,
// for a message that was never sent (its ids are fresh, its recipient
// alice@example.com).
func SampleEvent(domain, kind string, now time.Time) ([]byte, error) {
	if !ValidKind(kind) {
		return nil, fmt.Errorf("webhooks: no event type %q", kind)
	}
	mi := &events.MessageInfo{Domain: domain, MessageID: "sample." + events.NewID() + "@" + domain,
		From: "Sender <sender@" + domain + ">", To: "alice@example.com", Subject: "A sample event of " + kind,
		Size: 1024, Method: "http", Sender: "sender@" + domain, Tags: []string{"sample"}, UserVariables: map[string]any{}}
	const rcpt = "alice@example.com"
	ds := mgapi.DeliveryStatus{Code: 250, Message: "OK", MXHost: "mx.example.com", AttemptNo: 1, TLS: true, CertificateVerified: true}
	g := events.Engagement{IP: "192.0.2.1", Client: mgapi.ClientInfo{ClientName: "Firefox", ClientOS: "Linux",
		ClientType: "browser", DeviceType: "desktop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		Geolocation: mgapi.Geolocation{Country: "US", Region: "Unknown", City: "Unknown"}}
	var rec = events.NewAccepted(mi, rcpt, nil, now)
	switch kind {
	case "delivered":
		rec = events.NewDelivered(mi, rcpt, nil, ds, now)
	case "permanent_fail":
		ds.Code, ds.Message, ds.EnhancedCode = 550, "5.1.1 The email account that you tried to reach does not exist.", "5.1.1"
		rec = events.NewFailed(mi, rcpt, nil, events.Permanent, "bounce", ds, now)
	case "temporary_fail":
		ds.Code, ds.Message, ds.EnhancedCode, ds.RetrySeconds = 451, "4.3.0 Try again later.", "4.3.0", 600
		rec = events.NewFailed(mi, rcpt, nil, events.Temporary, "generic", ds, now)
	case "complained":
		rec = events.NewComplained(mi, rcpt, nil, now)
	case "opened", "clicked", "unsubscribed":
		if kind == "clicked" {
			g.URL = "https://example.com/sample-link"
		}
		rec = events.NewEngagement(mi, kind, rcpt, g, now)
	}
	return rec.Data, nil
}

// TestResult is what a tested URL answered: its status (0 when it did
// not answer) and the start of its body, or why there was no answer.
type TestResult struct {
	Status  int
	Message string
}

// Tester posts sample events; the API and the dashboard share one.
type Tester struct {
	// Client posts: the egress-checked client of the dispatcher.
	Client *http.Client
	// SigningKey returns the account's HTTP webhook signing key.
	SigningKey func(ctx context.Context) (string, error)
	Now        func() time.Time
	// Timeout bounds the wait for an answer (the dispatcher's).
	Timeout time.Duration
}

// Test posts a signed sample event of kind of domain to url and returns
// what it answered; an error only when the test could not be made (an
// unknown kind, no signing key), not when the URL failed.
func (t *Tester) Test(ctx context.Context, domain, kind, url string) (TestResult, error) {
	now := t.Now().UTC()
	data, err := SampleEvent(domain, kind, now)
	if err != nil {
		return TestResult{}, err
	}
	key, err := t.SigningKey(ctx)
	if err != nil {
		return TestResult{}, fmt.Errorf("webhooks: signing key: %w", err)
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return post1(ctx, t.Client, url, Body(Sign([]byte(key), now), data), timeout), nil
}

// post1 makes the one POST of a test.
func post1(ctx context.Context, client *http.Client, url string, body []byte, timeout time.Duration) TestResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return TestResult{Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "salvo-webhooks")
	resp, err := client.Do(req)
	if err != nil {
		return TestResult{Message: postError(err, timeout).Error()}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	msg := printable(head)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return TestResult{Status: resp.StatusCode, Message: msg}
}
