// Package startstop is the start/stop protocol every long-running part of
// Salvo follows (modelled on River's BaseStartStop): a part embeds a Base,
// asks it whether to start and whether to stop, and so behaves the same
// way as every other part whatever order its callers use.
//
// Invariants:
//   - a part starts at most once: Start after Start, or after Stop,
//     starts nothing;
//   - Stop before Start returns nil at once (there is nothing to wait
//     for), and the part never starts afterwards;
//   - Stop twice is harmless: the first call stops the part, a later (or
//     concurrent) one waits for that until its own context ends;
//   - Stop returns its context's error when the context ended before the
//     part had stopped gracefully (work was cut short), nil otherwise.
package startstop

import (
	"context"
	"sync"
)

// Base is the start/stop state of one part. The zero value is a part not
// yet started.
type Base struct {
	mu       sync.Mutex
	started  bool
	stopping bool
	stopped  chan struct{} // closed once the part stopped (or was never started)
}

// StartInit reports whether the caller should start the part: true for
// the first call, unless Stop came first.
func (b *Base) StartInit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.stopping {
		return false
	}
	b.started = true
	return true
}

// Started reports whether the part was started.
func (b *Base) Started() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.started
}

// Stop stops the part with stop, once: stop runs only in the first Stop
// of a started part, with ctx, and its error is returned; a Stop of a part
// never started returns nil at once; any other Stop waits for the first to
// finish, or returns ctx's error when ctx ends first.
func (b *Base) Stop(ctx context.Context, stop func(ctx context.Context) error) error {
	b.mu.Lock()
	if b.stopped == nil {
		b.stopped = make(chan struct{})
	}
	first, started, stopped := !b.stopping, b.started, b.stopped
	b.stopping = true
	b.mu.Unlock()
	if !first {
		select {
		case <-stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(stopped)
	if !started {
		return nil
	}
	return stop(ctx)
}

// WaitOrCut waits for wait to return. When ctx ends first it calls cut
// (which must make wait return soon, e.g. by cancelling the work's
// context), waits for wait all the same, and returns ctx's error.
func WaitOrCut(ctx context.Context, wait func(), cut func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		cut()
		<-done
		return ctx.Err()
	}
}
