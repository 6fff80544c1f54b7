package submission

import (
	"testing"
	"time"
)

// TestLimiter: a burst of twice the rate, then one token per 1/rate
// seconds, per key; a zero rate never limits.
func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(2, func() time.Time { return now })
	for i := range 4 {
		if !l.Allow("a") {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Fatal("a fifth message in the same instant allowed")
	}
	if !l.Allow("b") {
		t.Fatal("another key is limited by the first")
	}
	now = now.Add(499 * time.Millisecond)
	if l.Allow("a") {
		t.Fatal("a token came back before 1/rate")
	}
	now = now.Add(time.Millisecond)
	if !l.Allow("a") || l.Allow("a") {
		t.Fatal("want exactly one token after 1/rate")
	}
	now = now.Add(time.Hour)
	for i := range 4 {
		if !l.Allow("a") {
			t.Fatalf("after an idle hour, message %d of the burst refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Fatal("tokens piled up beyond the burst")
	}
	free := NewLimiter(0, func() time.Time { return now })
	for range 1000 {
		if !free.Allow("a") {
			t.Fatal("a zero rate limited")
		}
	}
}
