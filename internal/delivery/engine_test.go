package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

// nextDueStore answers NextDue only; the engine's sleep needs nothing else.
type nextDueStore struct {
	store.Regional
	next time.Time
}

func (s nextDueStore) NextDue(context.Context) (time.Time, error) { return s.next, nil }

// TestSleepFor: the claim loop sleeps until the next job is due, at most
// PollInterval, and does not spin on jobs that are due but were left
// because their destination is busy (a freed slot wakes it instead).
func TestSleepFor(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		next time.Time
		want time.Duration
	}{
		{"empty queue", time.Time{}, time.Second},
		{"due long ago", now.Add(-time.Hour), time.Second},
		{"due now", now, time.Second},
		{"due very soon", now.Add(time.Millisecond), 10 * time.Millisecond},
		{"due soon", now.Add(300 * time.Millisecond), 300 * time.Millisecond},
		{"due later", now.Add(time.Hour), time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := New(Config{PollInterval: time.Second}, Deps{Store: nextDueStore{next: tc.next}, Now: func() time.Time { return now }})
			if got := e.sleepFor(); got != tc.want {
				t.Fatalf("sleepFor = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestNotifyDue: an accept due now wakes the claim loop; one due later
// only reschedules it, and only when the loop would sleep past it.
func TestNotifyDue(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	alarm := now.Add(500 * time.Millisecond) // when the loop's timer fires
	tests := []struct {
		name          string
		due           time.Time
		wake, resched bool
	}{
		{"due now", now, true, false},
		{"due before now", now.Add(-time.Minute), true, false},
		{"due before the alarm", now.Add(100 * time.Millisecond), false, true},
		{"due at the alarm", alarm, false, false},
		{"due tomorrow", now.Add(24 * time.Hour), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := New(Config{}, Deps{Now: func() time.Time { return now }})
			e.alarm.Store(alarm.UnixNano())
			e.NotifyDue(tc.due)
			if got := len(e.wake) == 1; got != tc.wake {
				t.Errorf("woken = %v, want %v", got, tc.wake)
			}
			if got := len(e.resched) == 1; got != tc.resched {
				t.Errorf("rescheduled = %v, want %v", got, tc.resched)
			}
		})
	}
}
