package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// BenchmarkWebhookDispatch measures webhook posts per second from the
// outbox to a receiver on 127.0.0.1 that answers 200 at once. b.N events
// are appended to the events table (as sends and deliveries would) while
// the receiver holds the first posts back; then it lets them through and
// the clock runs until it has had them all, so the figure is reading the
// outbox, signing, posting and recording the cursor, not appending. Run
// with a fixed count, e.g. -bench WebhookDispatch -benchtime 20000x.
func BenchmarkWebhookDispatch(b *testing.B) {
	for _, pg := range []bool{false, true} {
		b.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(b *testing.B) {
			benchDispatch(b, pg)
		})
	}
}

func benchDispatch(b *testing.B, pg bool) {
	ta := testutil.StartApp(b, testutil.AppOptions{Postgres: pg})
	ta.Call(b, http.MethodPost, "/v3/domains", ta.Key, testutil.Form(url.Values{"name": {hookDomain}})).Want(b, http.StatusOK)
	var got atomic.Int64
	gate := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-gate
		got.Add(1)
	}))
	b.Cleanup(recv.Close)
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	ta.Call(b, http.MethodPost, "/v4/domains/"+hookDomain+"/webhooks", ta.Key,
		testutil.Form(url.Values{"url": {recv.URL}, "event_types": {"accepted"}})).Want(b, http.StatusOK)
	for deadline := time.Now().Add(hookWait); ta.Webhooks.Rounds(hookDomain, recv.URL) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the pipeline did not start")
		}
	}
	evs := make([]store.Event, b.N)
	now := time.Now()
	for i := range evs {
		evs[i] = rawEvent(b, "bench-"+strconv.Itoa(i), "accepted", now)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(evs); i += 500 {
		if err := ta.Regional.AppendEvents(context.Background(), evs[i:min(i+500, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	appended := time.Since(start)
	start = time.Now()
	close(gate)
	for deadline := time.Now().Add(10 * time.Minute); got.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d posts after 10 minutes", got.Load(), b.N)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
	b.ReportMetric(appended.Seconds()*1000, "append-ms")
}
