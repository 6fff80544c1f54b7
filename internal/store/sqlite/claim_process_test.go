package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlite"
)

const (
	queueJobs    = 200
	queueRounds  = 5
	queueWorkers = 1 // claiming goroutines per process (see claimAll)
	queueLease   = time.Hour
)

// claimAll claims jobs due at now from r with queueWorkers goroutines at
// once, until none are left.
func claimAll(ctx context.Context, r store.Regional, now time.Time, owner string) ([]store.Job, error) {
	var mu sync.Mutex
	var out []store.Job
	errs := make([]error, queueWorkers)
	var wg sync.WaitGroup
	for w := range queueWorkers {
		wg.Go(func() {
			c := store.Claim{Now: now, Lease: queueLease, Owner: fmt.Sprint(owner, w), Limit: 4}
			for {
				jobs, err := r.ClaimJobs(ctx, c)
				if err != nil || len(jobs) == 0 {
					errs[w] = err
					return
				}
				mu.Lock()
				out = append(out, jobs...)
				mu.Unlock()
				// Work between claims, as a delivery engine's, leaves the
				// other process a chance at the write lock; otherwise (or
				// with more claimers a process) the one that holds it tends
				// to take it again at once and claim everything while the
				// other backs off.
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runClaimChild is the child process of TestSharedQueueFile: open the
// regional store, report "ready", then for each line "go <now>" (Unix
// microseconds) claim all it can and report "claimed <id>:<attempts> …".
func runClaimChild(path string) int {
	ctx := context.Background()
	r, err := sqlite.OpenRegional(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var now int64
		if _, err := fmt.Sscanf(in.Text(), "go %d", &now); err != nil {
			fmt.Fprintf(os.Stderr, "child: parent said %q\n", in.Text())
			return 1
		}
		jobs, err := claimAll(ctx, r, time.UnixMicro(now), "child-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: ClaimJobs:", err)
			return 1
		}
		var b strings.Builder
		b.WriteString("claimed")
		for _, j := range jobs {
			fmt.Fprintf(&b, " %d:%d", j.ID, j.Attempts)
		}
		fmt.Println(b.String())
	}
	return 0
}

// TestSharedQueueFile runs two processes claiming jobs from one regional
// store file at once, in rounds that start when the previous round's
// leases end: every job must be claimed once a round, by one process, with
// its attempts counted.
func TestSharedQueueFile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "region-us.db")
	r, err := sqlite.OpenRegional(ctx, path)
	mustOK(t, err, "OpenRegional")
	defer r.Close()
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	a := store.Accept{Message: store.Message{Key: "m1", Domain: "a.com", MessageID: "m1@a.com", Body: []byte("body")}}
	for i := range queueJobs {
		a.Jobs = append(a.Jobs, store.Job{MessageKey: "m1", Domain: "a.com",
			Recipient: fmt.Sprintf("r%d@d%d.example", i, i%5), RcptDomain: fmt.Sprintf("d%d.example", i%5), NextAttemptAt: start})
	}
	_, err = r.Accept(ctx, a)
	mustOK(t, err, "Accept")

	child := startChild(t, ctx, claimChildEnv+"="+path)
	if line := child.read("get ready"); line != "ready\n" {
		child.fail("child said %q", line)
	}
	shared := 0 // rounds in which both processes claimed jobs
	for round := range queueRounds {
		now := start.Add(time.Duration(round) * queueLease)
		child.say(fmt.Sprint("go ", now.UnixMicro()))
		mine, err := claimAll(ctx, r, now, "parent-")
		if err != nil {
			child.fail("parent: ClaimJobs: %v", err)
		}
		by := map[int64]string{}
		claims := map[string]int{}
		count := func(process string, id int64, attempts int) {
			if other, ok := by[id]; ok {
				t.Fatalf("round %d: job %d claimed by the %s and the %s", round, id, other, process)
			}
			if attempts != round+1 {
				t.Fatalf("round %d: job %d claimed with %d attempts, want %d", round, id, attempts, round+1)
			}
			by[id] = process
			claims[process]++
		}
		for _, j := range mine {
			count("parent", j.ID, j.Attempts)
		}
		line := child.read("claim")
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "claimed" {
			child.fail("child said %q", line)
		}
		for _, f := range fields[1:] {
			var id int64
			var attempts int
			if !scan(f, "%d:%d", &id, &attempts) {
				child.fail("child said %q", line)
			}
			count("child", id, attempts)
		}
		if len(by) != queueJobs {
			t.Fatalf("round %d: %d of %d jobs claimed", round, len(by), queueJobs)
		}
		if claims["parent"] > 0 && claims["child"] > 0 {
			shared++
		}
	}
	child.wait()
	if shared == 0 {
		t.Errorf("in each round one process claimed every job, so the two did not claim at once")
	}
}
