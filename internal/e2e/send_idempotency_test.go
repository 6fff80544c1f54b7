package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// idemRequest is a multipart send with a file, so that retries differ in
// their boundary but not in their content.
func idemRequest(subject string) reqBody {
	return multipartBody(url.Values{"from": {"sender@" + testDomain}, "to": {"a@dest.example", "b@dest.example"},
		"subject": {subject}, "text": {"once only"}, "o:tag": {"idem"}},
		upload{"attachment", "data.bin", []byte{1, 2, 3}})
}

// sendWithKey sends b with an Idempotency-Key and returns the status and
// the id (the body when not 200); it may run on any goroutine.
func (e *sendEnv) sendWithKey(key string, b reqBody) (int, string) {
	status, body, err := e.do(http.MethodPost, "/v3/"+testDomain+"/messages", b, "Idempotency-Key", key)
	if err != nil {
		return 0, err.Error()
	}
	var r mgapi.SendResponse
	if status != http.StatusOK || json.Unmarshal(body, &r) != nil {
		return status, string(body)
	}
	return status, r.ID
}

// checkSent waits for the deliveries of the given messages and checks
// that exactly one message per id was accepted and delivered, once per
// recipient (2 recipients each).
func (e *sendEnv) checkSent(ids ...string) {
	e.t.Helper()
	e.waitEvents("delivered", 2*len(ids))
	time.Sleep(300 * time.Millisecond) // room for anything extra to show up
	if n := len(e.storeEvents("accepted")); n != 2*len(ids) {
		e.t.Errorf("%d accepted events, want %d", n, 2*len(ids))
	}
	if n := len(e.storeEvents("delivered")); n != 2*len(ids) {
		e.t.Errorf("%d delivered events, want %d", n, 2*len(ids))
	}
	if n := e.mx.RecipientCount(); n != 2*len(ids) {
		e.t.Errorf("the MX got %d recipients, want %d", n, 2*len(ids))
	}
	byID := map[string]int{}
	for _, m := range e.mx.Messages() {
		byID[header(m.Data, "Message-Id")] += len(m.To)
	}
	for _, id := range ids {
		if byID[id] != 2 {
			e.t.Errorf("message %s reached %d recipients, want 2", id, byID[id])
		}
	}
}

// TestSendIdempotencyKey: a retried request with the same key returns the
// first response and sends nothing new; the same key for other content is
// a 409; other keys send again.
func TestSendIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	status, first := e.sendWithKey("order-1001", idemRequest("Receipt"))
	if status != 200 {
		t.Fatalf("first send = %d %s", status, first)
	}
	e.waitEvents("delivered", 2) // moving the clock must not expire a lease in flight
	e.clock.Advance(23 * time.Hour)
	status, again := e.sendWithKey("order-1001", idemRequest("Receipt"))
	if status != 200 || again != first {
		t.Fatalf("retry = %d %s, want 200 with the first id %s", status, again, first)
	}
	status, body := e.sendWithKey("order-1001", idemRequest("Another receipt"))
	if status != http.StatusConflict || !strings.Contains(body, "Idempotency-Key") {
		t.Fatalf("same key, other request = %d %s, want 409", status, body)
	}
	status, other := e.sendWithKey("order-1002", idemRequest("Receipt"))
	if status != 200 || other == first {
		t.Fatalf("other key = %d %s, want a new message", status, other)
	}
	e.checkSent(first, other)
}

// TestSendIdempotencyKeyExpires: after 24 hours the key is forgotten and
// the same request sends again.
func TestSendIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	_, first := e.sendWithKey("k", idemRequest("Receipt"))
	e.waitEvents("delivered", 2)
	e.clock.Advance(24*time.Hour + time.Minute)
	status, second := e.sendWithKey("k", idemRequest("Receipt"))
	if status != 200 || second == first {
		t.Fatalf("after 24h = %d %s, want a new message (first %s)", status, second, first)
	}
	e.checkSent(first, second)
}

// TestSendIdempotencyConcurrent: ten clients racing with one key make one
// message, and all get its id.
func TestSendIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		var wg sync.WaitGroup
		results := make([]string, 10)
		statuses := make([]int, 10)
		for i := range results {
			wg.Go(func() {
				statuses[i], results[i] = e.sendWithKey("race", idemRequest("Race"))
			})
		}
		wg.Wait()
		for i := range results {
			if statuses[i] != 200 || results[i] != results[0] {
				t.Fatalf("client %d = %d %s, want 200 %s", i, statuses[i], results[i], results[0])
			}
		}
		e.checkSent(results[0])
	})
}
