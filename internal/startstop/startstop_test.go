package startstop

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// part is a long-running part built on Base: Start runs a goroutine that
// works until its context is cancelled, or (graceful) until stop is
// closed when graceful is set.
type part struct {
	Base
	graceful bool
	stop     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stops    int // how many times the stop function ran
}

func (p *part) Start() bool {
	if !p.StartInit() {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.cancel = make(chan struct{}), cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if p.graceful {
			select {
			case <-p.stop:
			case <-ctx.Done():
			}
			return
		}
		<-ctx.Done()
	}()
	return true
}

func (p *part) Stop(ctx context.Context) error {
	return p.Base.Stop(ctx, func(ctx context.Context) error {
		p.stops++
		close(p.stop)
		defer p.cancel()
		return WaitOrCut(ctx, p.wg.Wait, p.cancel)
	})
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	expired := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 50*time.Millisecond)
	}
	long := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	tests := []struct {
		name     string
		graceful bool
		start    bool
		ctx      func() (context.Context, context.CancelFunc)
		wantErr  error
		maxTime  time.Duration
		wantRuns int
	}{
		{"stop before start returns at once", true, false, long, nil, time.Second, 0},
		{"graceful stop", true, true, long, nil, time.Second, 1},
		{"stop cut short returns the context's error", false, true, expired, context.DeadlineExceeded, 5 * time.Second, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &part{graceful: tc.graceful}
			if tc.start && !p.Start() {
				t.Fatal("first Start did not start")
			}
			ctx, cancel := tc.ctx()
			defer cancel()
			begin := time.Now()
			err := p.Stop(ctx)
			if took := time.Since(begin); !errors.Is(err, tc.wantErr) || took > tc.maxTime {
				t.Fatalf("Stop = %v after %s, want %v within %s", err, took, tc.wantErr, tc.maxTime)
			}
			// A second Stop is harmless and at once.
			if err := p.Stop(context.Background()); err != nil {
				t.Fatalf("second Stop = %v", err)
			}
			if p.stops != tc.wantRuns {
				t.Fatalf("the stop function ran %d times, want %d", p.stops, tc.wantRuns)
			}
			if p.Start() {
				t.Fatal("Start after Stop started the part again")
			}
		})
	}
}

// TestStartTwice: only the first Start starts.
func TestStartTwice(t *testing.T) {
	t.Parallel()
	p := &part{graceful: true}
	if !p.Start() || p.Start() {
		t.Fatal("want the first Start only to start")
	}
	if !p.Started() {
		t.Fatal("Started = false after Start")
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentStops: Stops at once run the stop function once; the
// others wait for it, or return their own context's error when it ends
// first.
func TestConcurrentStops(t *testing.T) {
	t.Parallel()
	var b Base
	b.StartInit()
	release := make(chan struct{})
	runs := 0
	stop := func(context.Context) error { runs++; <-release; return nil }
	first := make(chan error)
	go func() { first <- b.Stop(context.Background(), stop) }()
	time.Sleep(20 * time.Millisecond) // the first Stop is in stop
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Stop(ctx, stop); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Stop while the first runs, cut short: %v", err)
	}
	waiting := make(chan error)
	go func() { waiting <- b.Stop(context.Background(), stop) }()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("a Stop waiting for the first: %v", err)
	}
	if runs != 1 {
		t.Fatalf("stop ran %d times", runs)
	}
}
