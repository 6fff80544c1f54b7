package startstop

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoller: Run ticks at once, again on Wake (long before its poll
// interval), and Stop waits for the tick in progress, after which
// Stopping is true and Run has returned.
func TestPoller(t *testing.T) {
	t.Parallel()
	var p Poller
	var ticks atomic.Int32
	release := make(chan struct{})
	inTick := make(chan struct{}, 4)
	if !p.StartInit() {
		t.Fatal("StartInit = false on a new poller")
	}
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		p.Run(time.Hour, func() {
			ticks.Add(1)
			inTick <- struct{}{}
			<-release
		})
	}()
	<-inTick // the first tick, at once
	release <- struct{}{}
	p.Wake()
	<-inTick // the tick Wake asked for, not the hourly one
	if n := ticks.Load(); n != 2 {
		t.Fatalf("ticks = %d, want 2", n)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a tick was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	if !p.Stopping() {
		t.Error("Stopping = false after Stop was called")
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v", err)
	}
	<-returned
	if p.StartInit() {
		t.Error("StartInit = true after Stop")
	}
}

// TestPollerStopBeforeStart: nothing to wait for.
func TestPollerStopBeforeStart(t *testing.T) {
	t.Parallel()
	var p Poller
	p.Wake() // harmless before Start
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop before Start = %v", err)
	}
	if p.StartInit() {
		t.Error("StartInit = true after Stop")
	}
}
