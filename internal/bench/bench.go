// Package bench measures Salvo under load: durable HTTP accepts,
// accept-to-delivered through a local SMTP sink, and SMTP accept rates of
// the inbound MX and the submission relay (smtp.go), also against another
// server such as Postfix for comparison. It runs a real node
// in-process (real listener, real store, real SMTP), a load generator of
// concurrent HTTP clients and, for end-to-end runs, a go-smtp sink that
// counts what arrives. Figures go to docs/performance.md; nothing here is a
// pass/fail test.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
)

// Options describe one run.
type Options struct {
	Mode        string // "accept", "e2e", "dead", "recover", "mx" or "relay"
	Concurrency int
	Duration    time.Duration
	Size        int  // bytes of text per message
	Recipients  int  // per message
	Batch       bool // send with recipient-variables (a batch send)
	// Messages, when set, ends the run once that many are sent (or at
	// Duration, whichever comes first): e.g. to fill the queue to a size.
	Messages    int64
	DataDir     string
	DatabaseURL string // PostgreSQL for the regional store when set
	// GlobalDatabaseURL is PostgreSQL for the global store (another
	// database); empty keeps the embedded one.
	GlobalDatabaseURL string
	DKIMBits          int
	Out               io.Writer
	// RetrySchedule replaces the node's delivery retry schedule when set
	// (its first step also caps a dead destination's backoff).
	RetrySchedule []time.Duration
	// DrainTimeout bounds how long recover mode waits for the backlog to
	// be delivered after the destination comes back.
	DrainTimeout time.Duration
	// HeapProfile, when set, is where a heap profile is written once the
	// load has ended and settled (accept, dead and recover modes).
	HeapProfile string

	// SMTP modes (smtp.go): the server to load ("" starts a node), messages
	// per connection, the envelope, and the relay's credential and STARTTLS.
	Target        string
	PerConnection int
	From, To      string
	Login         string
	Password      string
	StartTLS      bool
	drained       func(limit time.Duration) time.Duration
}

// Result is what a run measured.
type Result struct {
	Sent      int64
	Errors    int64
	Elapsed   time.Duration
	Latencies *Latencies
	Delivered int64
	// CPU is the process's CPU time (user and system) from the first send
	// to the last acceptance (accept) or delivery (e2e): per message, it
	// varies less from run to run than rates on a shared VM. 0 where it
	// is not measured.
	CPU time.Duration
	// Sessions is how many SMTP sessions the sink received (e2e).
	Sessions int64
	// DeliverElapsed is from the first send to the last delivery.
	DeliverElapsed time.Duration
	// FirstError is the first error a client saw (SMTP modes).
	FirstError string
	// Drained is how long the inbound queue took to empty after the load
	// ended (mx mode on an in-process node; -1 if it did not).
	Drained time.Duration
	// RSS and PeakRSS are the process's resident memory after the run,
	// node still up and the queue still full (accept mode), and its
	// high-water mark, in bytes (Linux; 0 elsewhere). The load generator
	// runs in the same process, so they include it.
	RSS, PeakRSS int64
	// Mem is where the resident memory was after the run (accept, dead
	// and recover modes).
	Mem Memory
	// Recover mode: from the destination's revival to its first delivery
	// (the probe's wait), and from the first to the last delivery of the
	// backlog; the most SMTP sessions open at the sink at once during the
	// drain, and the peak RSS during it.
	ReviveToFirst, Drain time.Duration
	MaxSessions          int64
	DrainPeakRSS         int64
}

// Rate is accepted messages per second.
func (r Result) Rate() float64 { return float64(r.Sent) / r.Elapsed.Seconds() }

// Percentile returns the p-th latency percentile (0 < p ≤ 100).
func (r Result) Percentile(p float64) time.Duration {
	if r.Latencies == nil {
		return 0
	}
	return r.Latencies.Percentile(p)
}

// Run performs one benchmark run.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Mode == "mx" || o.Mode == "relay" {
		return runSMTP(ctx, o)
	}
	sink, err := startSink()
	if err != nil {
		return Result{}, err
	}
	defer sink.srv.Close()
	cfg := config.Default()
	cfg.DataDir, cfg.HTTPAddr, cfg.APIKey = o.DataDir, "127.0.0.1:0", "bench-key-0123456789abcdef"
	cfg.Smarthost, cfg.LogLevel, cfg.DKIMKeyBits = sink.addr, "error", o.DKIMBits
	if o.Mode == "dead" || o.Mode == "recover" {
		// The only destination is dead: a port nothing listens on (in
		// recover mode, until the load has ended and the queue is full).
		if cfg.Smarthost, err = closedAddr(); err != nil {
			return Result{}, err
		}
	}
	if len(o.RetrySchedule) > 0 {
		cfg.RetrySchedule = o.RetrySchedule
	}
	cfg.DatabaseURL, cfg.GlobalDatabaseURL = o.DatabaseURL, o.GlobalDatabaseURL
	cfg.SMTP.SubmissionAddr, cfg.SMTP.SubmissionTLSAddr, cfg.SMTP.MXAddr = "", "", ""
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(ctx, cfg, log, app.Seams{Stderr: io.Discard})
	if err != nil {
		return Result{}, err
	}
	if err := a.Start(ctx); err != nil {
		return Result{}, err
	}
	defer a.Stop(context.Background())
	base := a.Cfg.PublicURL
	domain := "bench.example.com"
	if err := post(base+"/v3/domains", cfg.APIKey, "application/x-www-form-urlencoded", strings.NewReader("name="+domain)); err != nil {
		return Result{}, fmt.Errorf("create domain: %w", err)
	}
	cpu := processCPU()
	res := load(base+"/v3/"+domain+"/messages", cfg.APIKey, o)
	res.CPU = processCPU() - cpu
	if o.Mode == "accept" || o.Mode == "dead" || o.Mode == "recover" {
		// The queue stays full (deliveries are due a day later): settle,
		// then read what the node holds with it.
		// FreeOSMemory returns what the Go heap no longer uses at once
		// (the scavenger would within minutes), so RSS is what is held.
		debug.FreeOSMemory()
		time.Sleep(2 * time.Second)
		res.RSS, res.PeakRSS = memory()
		res.Mem = readMemory()
		if o.HeapProfile != "" {
			if f, err := os.Create(o.HeapProfile); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}
	if o.Mode == "recover" {
		if err := revive(&res, cfg.Smarthost, o); err != nil {
			return res.Result, err
		}
	}
	if o.Mode == "e2e" {
		want := res.Sent * int64(o.Recipients)
		deadline := time.Now().Add(5 * time.Minute)
		for sink.count.Load() < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		res.Delivered = sink.count.Load()
		res.Sessions = sink.sessions.Load()
		res.DeliverElapsed = sink.lastAt().Sub(res.start)
		res.CPU = processCPU() - cpu
	}
	return res.Result, nil
}

type loadResult struct {
	Result
	start time.Time
}

// load sends messages from o.Concurrency clients for o.Duration.
func load(url, key string, o Options) loadResult {
	body, ctype := messageBody(o)
	tr := &http.Transport{MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	start := time.Now()
	r := drive(o, func() (int, []time.Duration, error) {
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.SetBasicAuth("api", key)
		req.Header.Set("Content-Type", ctype)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, nil, fmt.Errorf("%s", resp.Status)
		}
		return 1, []time.Duration{time.Since(t0)}, nil
	})
	return loadResult{Result: r, start: start}
}

// drive runs o.Concurrency clients calling one for o.Duration; one
// returns how many messages it sent, their latencies and its error.
func drive(o Options, one func() (int, []time.Duration, error)) Result {
	var sent, errs atomic.Int64
	var firstErr atomic.Value
	lat := new(Latencies)
	start := time.Now()
	stop := start.Add(o.Duration)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for time.Now().Before(stop) && (o.Messages == 0 || sent.Load() < o.Messages) {
				n, d, err := one()
				sent.Add(int64(n))
				for _, d := range d {
					lat.Add(d)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	r := Result{Sent: sent.Load(), Errors: errs.Load(), Elapsed: time.Since(start), Latencies: lat}
	if v := firstErr.Load(); v != nil {
		r.FirstError = v.(string)
	}
	return r
}

// messageBody is a multipart send request of about o.Size bytes of text.
func messageBody(o Options) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("from", "Bench <bench@bench.example.com>")
	vars := map[string]any{}
	for i := 0; i < o.Recipients; i++ {
		rcpt := fmt.Sprintf("user%d@dest%d.example.net", i, i%4)
		_ = w.WriteField("to", rcpt)
		vars[rcpt] = map[string]any{"n": i}
	}
	if o.Batch {
		// A batch send: one copy per recipient, each seeing only itself.
		rv, _ := json.Marshal(vars)
		_ = w.WriteField("recipient-variables", string(rv))
	}
	_ = w.WriteField("subject", "Benchmark message")
	if o.Mode == "accept" {
		// Accept-only runs schedule delivery for tomorrow, so the engine
		// (running) has nothing due and the figure is the accept path's.
		_ = w.WriteField("o:deliverytime", time.Now().Add(24*time.Hour).Format(time.RFC1123Z))
	}
	line := "The quick brown fox jumps over the lazy dog. 0123456789\n"
	_ = w.WriteField("text", strings.Repeat(line, max(1, o.Size/len(line))))
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func post(url, key, ctype string, body io.Reader) error {
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.SetBasicAuth("api", key)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}

// closedAddr is a loopback address where nothing listens.
func closedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// sink is an SMTP server that counts recipients of received messages.
type sink struct {
	addr     string
	srv      *smtp.Server
	count    atomic.Int64
	first    atomic.Int64
	last     atomic.Int64
	sessions atomic.Int64
	// active and maxActive count sessions open at once.
	active, maxActive atomic.Int64
}

func (s *sink) lastAt() time.Time { return time.Unix(0, s.last.Load()) }

func startSink() (*sink, error) { return startSinkAt("127.0.0.1:0") }

// startSinkAt starts a sink listening on addr.
func startSinkAt(addr string) (*sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &sink{addr: ln.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		s.sessions.Add(1)
		n := s.active.Add(1)
		for {
			m := s.maxActive.Load()
			if n <= m || s.maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		return &sinkSession{s: s}, nil
	}))
	s.srv.Domain = "sink.local"
	s.srv.MaxMessageBytes = 64 << 20
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

type sinkSession struct {
	s     *sink
	rcpts int64
}

func (ss *sinkSession) Reset()                               { ss.rcpts = 0 }
func (ss *sinkSession) Logout() error                        { ss.s.active.Add(-1); return nil }
func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { ss.rcpts++; return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	ss.s.count.Add(ss.rcpts)
	now := time.Now().UnixNano()
	ss.s.first.CompareAndSwap(0, now)
	ss.s.last.Store(now)
	return nil
}

// memory returns VmRSS and VmHWM of this process from /proc (0 when it
// cannot be read).
func memory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			peak = n << 10
		}
	}
	return rss, peak
}

// revive starts a sink at the dead destination's address once the load
// has ended and waits for the backlog to arrive there: the engine learns
// the destination is back from its next probe (when the backoff ends) and
// then releases every deferred job at once.
func revive(res *loadResult, addr string, o Options) error {
	// Resets VmHWM, so the peak read after the drain is the drain's.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	s, err := startSinkAt(addr)
	if err != nil {
		return fmt.Errorf("revive the destination at %s: %w", addr, err)
	}
	defer s.srv.Close()
	revived := time.Now()
	want := res.Sent * int64(o.Recipients)
	timeout := o.DrainTimeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	deadline := revived.Add(timeout)
	for s.count.Load() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	res.Delivered = s.count.Load()
	res.Sessions = s.sessions.Load()
	res.MaxSessions = s.maxActive.Load()
	if f := s.first.Load(); f != 0 {
		res.ReviveToFirst = time.Unix(0, f).Sub(revived)
		res.Drain = s.lastAt().Sub(time.Unix(0, f))
	}
	_, res.DrainPeakRSS = memory()
	// Fewer than want delivered (the timeout) shows in the report.
	return nil
}

// Memory is where a process's resident memory is (Linux; zero elsewhere).
type Memory struct {
	// Anon, File and Shmem split RSS: anonymous memory (Go's heap and
	// stacks, and the C heap of the SQLite driver), mapped files, shared
	// memory (SQLite's WAL index).
	Anon, File, Shmem int64
	// GoHeld is what Go's runtime holds from the OS and has not released;
	// GoLive is the live heap at the last collection.
	GoHeld, GoLive int64
	// GoClasses is Go's /memory/classes breakdown of GoHeld, in MB.
	GoClasses string
}

// OutsideGo is anonymous memory that Go's runtime does not account for
// (the SQLite driver's C heap and page caches, and any other C memory):
// GOMEMLIMIT does not bound it.
func (m Memory) OutsideGo() int64 { return m.Anon - m.GoHeld }

func readMemory() Memory {
	var m Memory
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 || f[2] != "kB" {
				continue
			}
			n, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "RssAnon:":
				m.Anon = n << 10
			case "RssFile:":
				m.File = n << 10
			case "RssShmem:":
				m.Shmem = n << 10
			}
		}
	}
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	m.GoHeld = int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
	m.GoLive = int64(samples[2].Value.Uint64())
	var classes []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Name != "/memory/classes/total:bytes" && d.Name != "/memory/classes/heap/released:bytes" {
			classes = append(classes, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(classes)
	var parts []string
	for _, c := range classes {
		if v := c.Value.Uint64(); v >= 1<<20 {
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimSuffix(strings.TrimPrefix(c.Name, "/memory/classes/"), ":bytes"), v>>20))
		}
	}
	m.GoClasses = strings.Join(parts, ", ")
	return m
}
