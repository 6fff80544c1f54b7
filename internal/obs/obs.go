// Package obs sets up logging and metrics and counts panics.
//
// One *slog.Logger and one *Metrics are made by the app and passed down; no
// package keeps its own global logger or registry. Every goroutine Salvo
// starts runs through Go, which recovers a panic, logs it with its stack and
// counts it, so a bug in one worker never takes the process down silently
// and the test suite can fail when any panic was counted.
package obs

import (
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewLogger returns a logger writing text or JSON at the given level.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Metrics is the process's Prometheus registry and the counters shared by
// several packages.
type Metrics struct {
	Registry *prometheus.Registry

	Panics       prometheus.Counter
	HTTPRequests *prometheus.CounterVec
	AuthFailures prometheus.Counter

	panics atomic.Int64
}

// NewMetrics makes a fresh registry with the Go and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "salvo_panics_total", Help: "Panics recovered in any goroutine.",
		}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salvo_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		AuthFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "salvo_auth_failures_total", Help: "API requests refused for a missing or wrong key.",
		}),
	}
	reg.MustRegister(m.Panics, m.HTTPRequests, m.AuthFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// PanicCount is how many panics were recovered by this Metrics.
func (m *Metrics) PanicCount() int64 { return m.panics.Load() }

// Recovered records a recovered panic value.
func (m *Metrics) Recovered(log *slog.Logger, where string, v any) {
	log.Error("panic recovered", "where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	m.Panics.Inc()
	m.panics.Add(1) // last: whoever sees the count also sees the log line

}

// Go runs fn in a goroutine that recovers and counts a panic.
func (m *Metrics) Go(log *slog.Logger, name string, fn func()) {
	go func() {
		defer func() {
			if v := recover(); v != nil {
				m.Recovered(log, name, v)
			}
		}()
		fn()
	}()
}
