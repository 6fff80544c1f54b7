package startstop

import (
	"context"
	"sync"
	"time"
)

// Poller is a part with one worker goroutine that works through what is
// due, then waits for a Wake, its poll interval or Stop (the leased
// background workers: suppression imports, exports). The caller asks
// StartInit, sets itself up, and runs Run in a goroutine of its own
// (with its panic recovery); Stop closes the stop channel and waits for
// Run to return.
type Poller struct {
	Base
	once             sync.Once
	wake, stop, done chan struct{}
}

func (p *Poller) init() {
	p.once.Do(func() {
		p.wake, p.stop, p.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	})
}

// Run calls tick at once and then after every Wake or poll interval,
// until Stop. tick should check Stopping between units of work.
func (p *Poller) Run(poll time.Duration, tick func()) {
	p.init()
	defer close(p.done)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		tick()
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

// Wake makes the worker tick now (or right after its current tick).
func (p *Poller) Wake() {
	p.init()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stopping reports whether Stop was called: the worker should end its
// current tick.
func (p *Poller) Stopping() bool {
	p.init()
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Stop ends the worker after its current unit of work, or returns ctx's
// error when ctx ends first.
func (p *Poller) Stop(ctx context.Context) error {
	p.init()
	return p.Base.Stop(ctx, func(ctx context.Context) error {
		close(p.stop)
		select {
		case <-p.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}
