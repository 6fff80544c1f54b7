package e2e

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/events"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlstore"
	"github.com/salvo-email/salvo/internal/testutil"
)

const eventsDomain = "events.bench.example"

// BenchmarkEventsMillion builds the event log of issue 16's run — 500
// messages of 1,000 recipients each, every address in the To header, each
// recipient accepted and delivered: 1,000,000 events — and reports the
// store's size per event and the Events API's p50/p99 over real HTTP for
// the first page of 300, event=delivered (300), recipient=X and
// message-id=X. The events are the ones the engine writes
// (events.NewAccepted in the accept transaction with the message,
// events.NewDelivered per recipient), inserted through the store in bulk
// instead of through SMTP delivery. SALVO_BENCH_MESSAGES sets the number of
// messages (500). Run with -benchtime 1x.
func BenchmarkEventsMillion(b *testing.B) {
	for _, pg := range []bool{false, true} {
		b.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(b *testing.B) {
			benchEventsMillion(b, pg)
		})
	}
}

func benchEventsMillion(b *testing.B, pg bool) {
	messages := 500
	if v, err := strconv.Atoi(os.Getenv("SALVO_BENCH_MESSAGES")); err == nil && v > 0 {
		messages = v
	}
	const rcptsPer = 1000
	ta := testutil.StartApp(b, testutil.AppOptions{Postgres: pg})
	ta.Call(b, http.MethodPost, "/v3/domains", ta.Key, testutil.Form(url.Values{"name": {eventsDomain}})).Want(b, http.StatusOK)
	rcpts := make([]string, rcptsPer)
	for i := range rcpts {
		rcpts[i] = fmt.Sprintf("subscriber%04d@example.net", i)
	}
	to := strings.Join(rcpts, ", ")
	start := time.Now().Add(-time.Hour)
	ctx := context.Background()
	built := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range 2 {
		wg.Go(func() {
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= messages || b.Failed() {
					return
				}
				if err := writeBenchMessage(ctx, ta, k, rcpts, to, start.Add(time.Duration(k)*time.Second)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	total := messages * rcptsPer * 2
	b.Logf("%d events written in %s", total, time.Since(built).Round(time.Second))
	if pg {
		// What autovacuum does in the minutes after a bulk load (and
		// does not compete with the timed reads while doing it): the
		// visibility map that lets index-only reads skip the heap, and
		// statistics of the new rows.
		r := ta.Regional.(*sqlstore.Regional)
		for _, stmt := range []string{`VACUUM (ANALYZE) events`, `VACUUM (ANALYZE) event_parts`, `CHECKPOINT`} {
			if _, err := r.DB.Writer().Exec(stmt); err != nil {
				b.Fatal(err)
			}
		}
	}
	size := benchStoreSize(b, ta, pg)
	b.Logf("store: %d bytes, %.0f bytes per event", size, float64(size)/float64(total))

	mid := fmt.Sprintf("bench%04d@%s", messages/2, eventsDomain)
	queries := []struct{ name, q string }{
		{"first", "limit=300"},
		{"delivered", "limit=300&event=delivered"},
		{"recipient", "limit=300&recipient=" + url.QueryEscape(rcpts[rcptsPer/2])},
		{"message", "limit=300&message-id=" + url.QueryEscape(mid)},
	}
	client := &http.Client{}
	b.ResetTimer()
	for _, q := range queries {
		// A few requests first (the first reads the pages from disk
		// into the page cache, and the page's event parts into the
		// store's parts cache), then n timed; p99 is the nearest rank
		// (the 198th of 200), max the slowest. The first request's time
		// is logged apart.
		const warm, n = 5, 200
		var took []time.Duration
		var bytes int64
		var cold time.Duration
		for i := 0; i < warm+n; i++ {
			req, _ := http.NewRequest(http.MethodGet, ta.URL+"/v3/"+eventsDomain+"/events?"+q.q, nil)
			req.SetBasicAuth("api", ta.Key)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			nb, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if i >= warm {
				took = append(took, time.Since(t0))
			} else if i == 0 {
				cold = time.Since(t0)
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: HTTP %d %v", q.q, resp.StatusCode, err)
			}
			bytes = nb
		}
		slices.Sort(took)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		p50, p99 := took[(n+1)/2-1], took[(n*99+99)/100-1]
		b.ReportMetric(ms(p50), q.name+"-p50-ms")
		b.ReportMetric(ms(p99), q.name+"-p99-ms")
		b.Logf("%s (%s): p50 %.1f ms, p99 %.1f ms, max %.1f ms; first request (parts not cached) %.1f ms; %d bytes a page",
			q.name, q.q, ms(p50), ms(p99), ms(took[n-1]), ms(cold), bytes)
	}
	b.ReportMetric(float64(size)/float64(total), "bytes/event") // after ResetTimer, which drops metrics
	b.ReportMetric(float64(size)/1e6, "store-MB")
	if !pg {
		// At rest: a stopped node's data directory, its WAL copied into
		// the database and removed (while running, the WAL is bounded
		// at 64 MB after each checkpoint, whatever the log's size).
		ta.Stop(b)
		rest := benchStoreSize(b, ta, false)
		b.Logf("store at rest (node stopped): %d bytes, %.0f bytes per event", rest, float64(rest)/float64(total))
		b.ReportMetric(float64(rest)/float64(total), "bytes/event-at-rest")
	}
}

// writeBenchMessage writes message k as the engine does: the message and
// its accepted events in one transaction, then the delivered events.
func writeBenchMessage(ctx context.Context, ta *testutil.TestApp, k int, rcpts []string, to string, at time.Time) error {
	key := fmt.Sprintf("benchkey%06d", k)
	body := []byte(strings.Repeat("x", 2700))
	m := store.Message{Key: key, Domain: eventsDomain, MessageID: fmt.Sprintf("bench%04d@%s", k, eventsDomain),
		Sender: "news@" + eventsDomain, Size: len(body), Body: body, Meta: []byte(`{}`), CreatedAt: at,
		ExpiresAt: at.Add(72 * time.Hour)}
	mi := &events.MessageInfo{Domain: eventsDomain, StorageKey: key,
		StorageURL: ta.URL + "/v3/domains/" + eventsDomain + "/messages/" + key, MessageID: m.MessageID,
		From: "News <news@" + eventsDomain + ">", To: to, Subject: fmt.Sprintf("Issue %d of the newsletter", k),
		Size: len(body), Tags: []string{"newsletter"}, UserVariables: map[string]any{"campaign": "weekly"},
		Method: "http", Sender: m.Sender}
	a := store.Accept{Message: m, Now: at}
	for _, r := range rcpts {
		a.Events = append(a.Events, events.NewAccepted(mi, r, nil, at))
	}
	if _, err := ta.Regional.Accept(ctx, a); err != nil {
		return err
	}
	mi.SendingIP = "192.0.2.10"
	for i := 0; i < len(rcpts); i += 250 {
		var evs []store.Event
		for j, r := range rcpts[i:min(i+250, len(rcpts))] {
			ds := mgapi.DeliveryStatus{Code: 250, Message: "2.0.0 Ok: queued as " + strconv.Itoa(i+j), MXHost: "mx.example.net",
				AttemptNo: 1, SessionSeconds: 0.04, TLS: true, CertificateVerified: true}
			evs = append(evs, events.NewDelivered(mi, r, nil, ds, at.Add(time.Duration(1+i+j)*time.Millisecond)))
		}
		if err := ta.Regional.AppendEvents(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// benchStoreSize is the data directory's size (SQLite: every file, WAL
// included) or the regional schema's tables, indexes and TOAST (PostgreSQL).
func benchStoreSize(b *testing.B, ta *testutil.TestApp, pg bool) int64 {
	if pg {
		r, ok := ta.Regional.(*sqlstore.Regional)
		if !ok {
			b.Fatalf("%T is not a *sqlstore.Regional", ta.Regional)
		}
		var size int64
		err := r.DB.Writer().QueryRow(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&size)
		if err != nil {
			b.Fatal(err)
		}
		return size
	}
	var size int64
	var files []string // one log line: a benchmark's log is cut after ten
	err := filepath.WalkDir(ta.Cfg.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Size() > 0 {
			size += info.Size()
			files = append(files, fmt.Sprintf("%s %d", filepath.Base(p), info.Size()))
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("data directory (bytes): %s", strings.Join(files, ", "))
	return size
}
