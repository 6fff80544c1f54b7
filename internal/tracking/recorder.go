package tracking

import (
	"context"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// Opens and clicks are recorded in the background: the reader gets the
// pixel or the redirect at once, and the events go to the store in
// batches (one transaction for up to recordBatch events), so a burst of
// clicks costs a few commits instead of one wait per click. When the
// queue is full, a request records its event itself (back-pressure, never
// a drop). Stop writes what is queued. A crash loses at most the events
// queued and not yet committed — clicks whose redirect was already
// served; documented in docs/tracking.md.
const (
	recordQueue   = 8192
	recordBatch   = 1000
	recordWriters = 2
)

// Start runs the background event writers.
func (s *Service) Start() {
	if !s.life.StartInit() {
		return
	}
	s.stopMu.Lock()
	s.queue = make(chan store.Event, recordQueue)
	s.stopMu.Unlock()
	s.writersDone = make(chan struct{})
	done := make(chan struct{}, recordWriters)
	for range recordWriters {
		s.deps.Metrics.Go(s.deps.Log, "tracking event writer", func() {
			defer func() { done <- struct{}{} }()
			s.writeEvents()
		})
	}
	go func() {
		for range recordWriters {
			<-done
		}
		close(s.writersDone)
	}()
}

// Stop writes the queued events and stops the writers; call it once the
// HTTP server no longer serves requests. Past ctx's deadline the events
// still queued are lost (and logged).
func (s *Service) Stop(ctx context.Context) error {
	return s.life.Stop(ctx, func(ctx context.Context) error {
		s.stopMu.Lock()
		s.stopped = true
		close(s.queue)
		s.stopMu.Unlock()
		select {
		case <-s.writersDone:
			return nil
		case <-ctx.Done():
			s.deps.Log.Error("tracking events not written before shutdown", "queued", len(s.queue))
			return ctx.Err()
		}
	})
}

// enqueue hands an event to the writers, or writes it itself when they
// are busy, not started or stopped.
func (s *Service) enqueue(ctx context.Context, ev store.Event) error {
	s.stopMu.RLock()
	if s.queue != nil && !s.stopped {
		select {
		case s.queue <- ev:
			s.stopMu.RUnlock()
			return nil
		default:
		}
	}
	s.stopMu.RUnlock()
	return s.deps.Store.AppendEvents(ctx, []store.Event{ev})
}

func (s *Service) writeEvents() {
	batch := make([]store.Event, 0, recordBatch)
	for ev := range s.queue {
		batch = append(batch[:0], ev)
	fill:
		for len(batch) < recordBatch {
			select {
			case ev, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		s.writeBatch(batch)
	}
}

// writeBatch writes a batch, retrying a failed write a few times (the
// store may be restarting) before giving up on it.
func (s *Service) writeBatch(batch []store.Event) {
	var err error
	for attempt := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = s.deps.Store.AppendEvents(ctx, batch)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	s.deps.Log.Error("tracking events lost: cannot write them", "count", len(batch), "err", err)
}
