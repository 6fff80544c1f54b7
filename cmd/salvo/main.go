// Command salvo is a self-hosted email platform that speaks Mailgun's API.
//
// Subcommands: serve (run every service of one region), keys (manage API
// keys in the global store), users (dashboard users), version. Every flag
// has a SALVO_* environment twin; `salvo <command> --help` lists them with
// their defaults.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/obs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Salvo: a self-hosted email platform that speaks Mailgun's API.

Usage:
  salvo serve [flags]     run every service of one region (API, dashboard, SMTP, delivery)
  salvo keys <command>    list, create or revoke API keys (list | create | revoke)
  salvo queue [flags]     show what waits in the delivery queue, per destination, and why
  salvo usage [flags]     show the month's usage: messages accepted, delivered, failed
  salvo bench [flags]     measure accept and delivery throughput on this machine
  salvo users <command>   manage dashboard users (create | list | passwd | delete)
  salvo version           print the version

Run "salvo <command> --help" for the flags of a command. Every flag has an
environment twin: --http-addr is SALVO_HTTP_ADDR.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "keys":
		return keysCmd(ctx, args[1:], stdout, stderr, getenv)
	case "queue":
		return queueCmd(ctx, args[1:], stdout, stderr, getenv)
	case "usage":
		return usageCmd(ctx, args[1:], stdout, stderr, getenv)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "users":
		return usersCmd(ctx, args[1:], os.Stdin, stdout, stderr, getenv)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "salvo", versionString())
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "salvo: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, fs, code, ok := parseConfig(command{name: "serve", synopsis: "serve [flags]"}, args, stdout, stderr, getenv)
	if !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "salvo serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	tuneGC()
	tuneProcs(cfg.DatabaseURL == "")
	log := obs.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	nodes, err := regionConfigs(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "salvo: invalid configuration:\n%v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var apps []*app.App
	stopAll := func(timeout time.Duration) int {
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		code := 0
		for i := len(apps) - 1; i >= 0; i-- {
			if err := apps[i].Stop(sctx); err != nil {
				log.Error("shutdown", "region", apps[i].Cfg.Region, "err", err)
				code = 1
			}
		}
		return code
	}
	for _, c := range nodes {
		nlog := log
		if len(nodes) > 1 {
			nlog = log.With("region", c.Region)
		}
		a, err := app.New(ctx, c, nlog, app.Seams{Stderr: stderr})
		if err == nil {
			apps = append(apps, a)
			err = a.Start(ctx)
		}
		if err != nil {
			nlog.Error("cannot start", "err", err)
			stopAll(cfg.ShutdownTimeout)
			return 1
		}
	}
	<-ctx.Done()
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	return stopAll(cfg.ShutdownTimeout)
}

// regionConfigs returns the nodes to run: one, or one per region with
// --all-regions, each linking to the other's public URL.
func regionConfigs(cfg config.Config) ([]config.Config, error) {
	if !cfg.AllRegions {
		return []config.Config{cfg}, nil
	}
	us, err := cfg.ForRegion(config.RegionUS)
	if err != nil {
		return nil, err
	}
	eu, err := cfg.ForRegion(config.RegionEU)
	if err != nil {
		return nil, err
	}
	us.OtherRegionURL, eu.OtherRegionURL = config.URLOf(eu.HTTPAddr), config.URLOf(us.HTTPAddr)
	return []config.Config{us, eu}, nil
}

// gcPercent is the garbage collector's target when GOGC is not set. Salvo's
// live heap is small (tens of MB with a million recipients queued) and its
// hot paths allocate per request, so collecting at 5× the live heap instead
// of 2× costs little memory and gives back ~15 % of the CPU under load
// (docs/performance.md). GOGC, when set, wins.
const gcPercent = 400

// tuneProcs gives a node whose regional store is embedded one more P than
// Go's default (GOMAXPROCS, when set, wins). SQLite's committer holds its P
// through each commit's fsync and WAL writes, blocking system calls the
// scheduler takes the P back from only after a while, and the goroutines
// it wakes then wait behind the others. With one more P than cores the
// kernel shares the cores, and gives a thread back from I/O the core at
// once: on 2-core VMs p99 was lower in most interleaved pairs
// (docs/performance.md, "One P more than Go's default"). On PostgreSQL
// the server needs the cores too and it measured worse. Setting it stops
// Go from following a later change of the container's CPU limit.
func tuneProcs(embedded bool) {
	if n := procsFor(embedded, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); n != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
}

func procsFor(embedded bool, env string, current int) int {
	if !embedded || env != "" {
		return current
	}
	return current + 1
}

// memoryLimit is the soft memory limit when GOMEMLIMIT is not set. With
// gcPercent alone the heap may grow to 5× its live size between
// collections (docs/performance.md, "Figures moved out of code
// comments"). The soft limit makes the collector run sooner as the heap
// nears it, so RSS stays near the limit while the live heap is below it;
// it is soft: a live heap above it is never refused, only collected more
// often. GOMEMLIMIT, when set, wins (e.g. GOMEMLIMIT=off or 1GiB on a
// large node with big messages).
const memoryLimit = 192 << 20

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
