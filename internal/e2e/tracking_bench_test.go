package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// BenchmarkClickRedirect measures click redirects through the node's HTTP
// listener with parallel real HTTP clients (keep-alive, 32 goroutines per
// core): each request opens the token, queues a clicked event and
// answers 302; the events are written in batches in the background. redirects/s is what readers get; recorded/s counts until
// every clicked event is committed. Run it once per store:
//
//	go test ./internal/e2e -run '^$' -bench ClickRedirect -benchtime 20000x
//
// "nethttp" clicks with net/http's client; "raw" with a minimal HTTP/1.1
// keep-alive client (one request, one response at a time per
// connection), which leaves more of the two cores to the node.
func BenchmarkClickRedirect(b *testing.B) {
	for _, pg := range []bool{false, true} {
		for _, kind := range []string{"nethttp", "raw"} {
			b.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg]+"/"+kind, func(b *testing.B) {
				benchClicks(b, pg, kind == "raw")
			})
		}
	}
}

func benchClicks(b *testing.B, pg, raw bool) {
	e := startSendEnv(b, sendEnvOptions{postgres: pg})
	e.app.Tracking.SetBaseURL(e.app.URL)
	e.setTracking("click", url.Values{"active": {"yes"}})
	e.send(url.Values{"from": {"shop@" + testDomain}, "to": {"bob@example.org"}, "subject": {"Sale"},
		"html": {`<a href="https://shop.example.com/sale">shop</a>`}})
	link := links(e.delivered(1).HTML, e.app.URL+"/t/c/")
	if len(link) != 1 {
		b.Fatal("no tracked link")
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 30 * time.Second,
	}
	before := countClicks(b, e)
	var failed atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		if raw {
			rawClicks(b, pb, link[0], &failed)
			return
		}
		for pb.Next() {
			resp, err := client.Get(link[0])
			if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://shop.") {
				failed.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d redirects failed", n)
	}
	// Clicks are written in the background; all of them must land.
	var got int
	waitFor(b, 60*time.Second, func() bool { got = countClicks(b, e) - before; return got >= b.N },
		func() string { return "clicked events: " + strconv.Itoa(got) + " of " + strconv.Itoa(b.N) })
	if got != b.N {
		b.Fatalf("%d clicked events for %d clicks", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "redirects/s")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "recorded/s")
	// CPU of the whole process (node and clients) per click: what
	// the machine can do when nothing else runs on it.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/click")
}

// rawClicks sends GETs of link on one keep-alive connection, reading each
// response before the next request, until pb is done.
func rawClicks(b *testing.B, pb *testing.PB, link string, failed *atomic.Int64) {
	u, err := url.Parse(link)
	if err != nil {
		b.Error(err)
		return
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		b.Error(err)
		return
	}
	defer conn.Close()
	req := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: bench/1.0\r\n\r\n")
	br := bufio.NewReader(conn)
	for pb.Next() {
		if _, err := conn.Write(req); err != nil {
			failed.Add(1)
			return
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			failed.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://shop.") {
			failed.Add(1)
		}
	}
}

// processCPU is the user and system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countClicks counts the domain's clicked events, page by page.
func countClicks(b *testing.B, e *sendEnv) int {
	b.Helper()
	n := 0
	q := store.EventQuery{Domain: testDomain, Type: "clicked", Ascending: true, Limit: 10000}
	for {
		evs, err := e.app.Regional.Events(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		n += len(evs)
		if len(evs) < q.Limit {
			return n
		}
		last := evs[len(evs)-1]
		q.After = &store.Cursor{TS: last.Timestamp.UnixMicro(), Seq: last.Seq}
	}
}
