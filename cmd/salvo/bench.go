package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/bench"
)

// benchCmd runs `salvo bench`: a real node in-process, concurrent HTTP
// clients and (for e2e) a local SMTP sink; it prints throughput and
// latency percentiles.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("salvo bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := bench.Options{Out: stdout}
	fs.StringVar(&o.Mode, "mode", "accept", "accept (durable HTTP accepts, delivery scheduled later), e2e (accept → delivered at a local SMTP sink), dead (accepts due now while the only destination refuses connections), recover (dead, then the destination comes back once the load has ended: the drain of the backlog), mx (SMTP to the inbound MX) or relay (authenticated SMTP submission)")
	fs.StringVar(&o.Target, "target", "", "mx/relay: host:port of the SMTP server to load (default: start a node here)")
	fs.IntVar(&o.PerConnection, "per-conn", 1, "mx/relay: messages per SMTP connection (smtp-source sends 1)")
	fs.StringVar(&o.From, "from", "bench@bench.example.com", "mx/relay with --target: MAIL FROM")
	fs.StringVar(&o.To, "to", "user@bench.example.com", "mx/relay with --target: RCPT TO")
	fs.StringVar(&o.Login, "login", "", "relay with --target: SMTP AUTH login (none when empty)")
	fs.StringVar(&o.Password, "password", "", "relay with --target: SMTP AUTH password")
	fs.BoolVar(&o.StartTLS, "starttls", false, "relay with --target: STARTTLS before AUTH")
	fs.IntVar(&o.Concurrency, "c", 64, "concurrent HTTP clients")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "how long to send")
	fs.IntVar(&o.Size, "size", 2048, "bytes of text per message")
	fs.IntVar(&o.Recipients, "rcpts", 1, "recipients per message")
	fs.BoolVar(&o.Batch, "batch", false, "send with recipient-variables: a batch send, one copy per recipient")
	fs.Int64Var(&o.Messages, "messages", 0, "stop after this many messages (0: run for --d)")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "postgres://… for the regional store, where messages, queue and events live (default: embedded SQLite in a temp dir)")
	fs.StringVar(&o.GlobalDatabaseURL, "global-database-url", "", "postgres://… for the global store (keys, domain names), another database (default: embedded SQLite)")
	fs.IntVar(&o.DKIMBits, "dkim-bits", 2048, "DKIM key size")
	fs.Var(&durations{&o.RetrySchedule}, "retry-schedule", "delivery retry schedule, comma-separated (default: the node's); its first step caps a dead destination's backoff")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Minute, "recover: how long to wait for the backlog to be delivered")
	fs.StringVar(&o.DataDir, "data-dir", "", "data dir (default: a new temp dir, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	blockProfile := fs.String("blockprofile", "", "write a blocking profile to this file")
	traceFile := fs.String("trace", "", "write an execution trace to this file (go tool trace)")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file, taken at nine tenths of -d (under load)")
	fs.StringVar(&o.HeapProfile, "memprofile-after", "", "accept/dead/recover: write a heap profile to this file once the load has ended (the queue full)")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout, "bench [flags]", fs, nil)
			return 0
		}
		fmt.Fprintln(stderr, `Run "salvo bench --help" for the flags.`)
		return 2
	}
	tuneGC() // as salvo serve does
	tuneProcs(o.DatabaseURL == "")
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer trace.Stop()
	}
	if *memProfile != "" {
		go func() {
			time.Sleep(o.Duration * 9 / 10)
			if f, err := os.Create(*memProfile); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	if *blockProfile != "" {
		runtime.SetBlockProfileRate(int(time.Microsecond * 100))
		defer func() {
			if f, err := os.Create(*blockProfile); err == nil {
				_ = pprof.Lookup("block").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "salvo-bench-")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	r, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "salvo bench:", err)
		return 1
	}
	store := "sqlite"
	if o.DatabaseURL != "" {
		store = "postgres"
	}
	fmt.Fprintf(stdout, "mode=%s store=%s c=%d size=%d rcpts=%d: %d accepted (%d errors) in %.1fs = %.0f msgs/s; latency p50=%s p99=%s max=%s\n",
		o.Mode, store, o.Concurrency, o.Size, o.Recipients, r.Sent, r.Errors, r.Elapsed.Seconds(), r.Rate(),
		r.Percentile(50).Round(time.Microsecond*10), r.Percentile(99).Round(time.Microsecond*10), r.Percentile(100).Round(time.Microsecond*10))
	if r.CPU > 0 && r.Sent > 0 {
		fmt.Fprintf(stdout, "  CPU %.0f µs per message (user+system, whole process, load generator included)\n",
			float64(r.CPU.Microseconds())/float64(r.Sent))
	}
	if r.FirstError != "" {
		fmt.Fprintf(stdout, "  first error: %s\n", r.FirstError)
	}
	if o.Mode == "mx" && o.Target == "" {
		fmt.Fprintf(stdout, "  inbound queue drained %.1fs after the load ended (%.0f msgs/s routed overall)\n",
			r.Drained.Seconds(), float64(r.Sent)/(r.Elapsed+r.Drained).Seconds())
	}
	if (o.Mode == "accept" || o.Mode == "dead" || o.Mode == "recover") && r.RSS > 0 {
		fmt.Fprintf(stdout, "  %d recipients queued; RSS %d MB with them queued (peak %d MB during the run)\n",
			r.Sent*int64(o.Recipients), r.RSS>>20, r.PeakRSS>>20)
		m := r.Mem
		fmt.Fprintf(stdout, "  RSS: anonymous %d MB (Go runtime holds %d MB, live heap %d MB; outside Go %d MB), files %d MB, shared %d MB\n  Go's memory classes (MB): %s\n",
			m.Anon>>20, m.GoHeld>>20, m.GoLive>>20, m.OutsideGo()>>20, m.File>>20, m.Shmem>>20, m.GoClasses)
	}
	if o.Mode == "recover" {
		fmt.Fprintf(stdout, "  destination back: first delivery %.1fs later (the probe's wait); %d of %d recipients delivered in %.1fs = %.0f deliveries/s, over %d SMTP sessions, at most %d at once; peak RSS during the drain %d MB\n",
			r.ReviveToFirst.Seconds(), r.Delivered, r.Sent*int64(o.Recipients), r.Drain.Seconds(), float64(r.Delivered)/r.Drain.Seconds(), r.Sessions, r.MaxSessions, r.DrainPeakRSS>>20)
	}
	if o.Mode == "e2e" {
		fmt.Fprintf(stdout, "  delivered %d recipients in %.1fs from the first send = %.0f deliveries/s, over %d SMTP sessions\n",
			r.Delivered, r.DeliverElapsed.Seconds(), float64(r.Delivered)/r.DeliverElapsed.Seconds(), r.Sessions)
	}
	return 0
}

// durations is a flag of comma-separated durations.
type durations struct{ d *[]time.Duration }

func (f *durations) String() string {
	if f.d == nil {
		return ""
	}
	var parts []string
	for _, d := range *f.d {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, ",")
}

func (f *durations) Set(s string) error {
	var out []time.Duration
	for _, p := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration", p)
		}
		out = append(out, d)
	}
	*f.d = out
	return nil
}
