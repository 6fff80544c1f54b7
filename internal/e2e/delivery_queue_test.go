package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliveryLeases: a job claimed by a node that dies stays reserved for
// its lease and is then delivered by another, its attempt counted; a job
// given back with ReleaseJobs is delivered at once, no attempt counted.
func TestDeliveryLeases(t *testing.T) {
	t.Parallel()
	forEachStore(t, "lease.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		due := e.Clock.Now().Add(time.Hour)
		var ids []string
		for _, rcpt := range []string{"dead@lease.test", "released@lease.test"} {
			m := e.message(rcpt)
			m.SetDeliveryTime(due)
			ids = append(ids, e.send(m))
		}
		dead, released := ids[0], ids[1]

		// Another node claims both when they are due, then dies.
		ctx := context.Background()
		jobs, err := e.App.Regional.ClaimJobs(ctx, store.Claim{Now: due, Lease: time.Minute, Owner: "dead-node", Limit: 10})
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claim = %d jobs, %v", len(jobs), err)
		}
		for _, j := range jobs {
			if j.Attempts != 1 {
				t.Fatalf("claimed job %+v: attempts %d, want 1", j, j.Attempts)
			}
			if j.Recipient == "released@lease.test" {
				if err := e.App.Regional.ReleaseJobs(ctx, []int64{j.ID}, due); err != nil {
					t.Fatal(err)
				}
			}
		}

		e.advance(time.Hour + 30*time.Second) // due, and the dead node's lease still holds
		e.waitDelivered(released, 1)
		if probe, err := e.App.Regional.ClaimJobs(ctx, store.Claim{Now: e.Clock.Now(), Lease: time.Minute, Owner: "probe", Limit: 10}); err != nil || len(probe) != 0 {
			t.Fatalf("a job under lease was claimed again: %+v, %v", probe, err)
		}
		if got := receivedBy(mx, "dead@lease.test"); len(got) != 0 {
			t.Fatalf("a job under lease was delivered")
		}

		e.advance(time.Minute) // the lease ends
		e.waitDelivered(dead, 2)
		receivedFor(t, mx, "dead@lease.test")
	})
}

// TestDeliveryStopDrains: Stop lets the message in flight finish and gives
// the connection's other jobs back without counting an attempt; the next
// node delivers them as first attempts.
func TestDeliveryStopDrains(t *testing.T) {
	t.Parallel()
	forEachStore(t, "drain.test", func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX) {
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		mx.SetDataHook(func() { once.Do(func() { close(entered); <-release }) })

		// Five messages due together: one claim, one connection.
		due := e.Clock.Now().Add(time.Minute)
		var ids []string
		for _, rcpt := range []string{"d1@drain.test", "d2@drain.test", "d3@drain.test", "d4@drain.test", "d5@drain.test"} {
			m := e.message(rcpt)
			m.SetDeliveryTime(due)
			ids = append(ids, e.send(m))
		}
		e.advance(time.Minute)
		waitClosed(t, entered, "the first message to reach DATA")

		first := e.App
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			first.Stop(t)
		}()
		e.waitLog("delivery stopping")
		close(release)
		waitClosed(t, stopped, "Stop")
		if got := mx.Messages(); len(got) != 1 || mx.Sessions() != 1 {
			t.Fatalf("before the restart: %d messages in %d sessions, want the one in flight", len(got), mx.Sessions())
		}

		e.startApp(first)
		for _, id := range ids {
			e.waitDelivered(id, 1)
		}
		if got := mx.Messages(); len(got) != len(ids) {
			t.Fatalf("received %d messages, want %d", len(got), len(ids))
		}
	})
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}
