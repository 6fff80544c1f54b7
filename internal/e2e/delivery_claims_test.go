package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliveryNoVainClaims: while a destination is at its connection
// limit, accepts to it wake no claim (a claim skips it, and used to read
// its whole backlog to come back empty, once per accept); an accept to
// another destination is claimed and delivered at once, and the held
// destination's backlog is delivered when its connection frees. The
// engine's timer is set to an hour, so only notifications wake it here.
func TestDeliveryNoVainClaims(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e, busy := startEnvMX(t, envOptions{postgres: pg, deliveryPoll: time.Hour,
				configure: func(c *config.Config) { c.PerDestination = 1 }}, "busy.test")
			other := testutil.StartFakeMX(t, testutil.MXOptions{})
			e.addMX("other.test", other)
			entered, release := make(chan struct{}), make(chan struct{})
			var once, releaseOnce sync.Once
			free := func() { releaseOnce.Do(func() { close(release) }) }
			t.Cleanup(free)
			busy.SetDataHook(func() { once.Do(func() { close(entered); <-release }) })

			ids := []string{e.send(e.message("first@busy.test"))}
			waitClosed(t, entered, "the first message to reach DATA")

			before := claims(t, e, "none")
			const n = 20
			for i := range n {
				ids = append(ids, e.send(e.message(fmt.Sprintf("u%02d@busy.test", i))))
			}
			// At most the first of these accepts finds the destination
			// busy and claims in vain; that claim is remembered.
			if vain := claims(t, e, "none") - before; vain > 1 {
				t.Fatalf("%d accepts to a destination at its connection limit made %d empty claims, want at most 1", n, vain)
			}

			o := e.send(e.message("x@other.test"))
			e.waitDelivered(o, 1)
			if got := busy.Messages(); len(got) != 0 {
				t.Fatalf("busy.test got %d messages while held", len(got))
			}

			free()
			for _, id := range ids {
				e.waitDelivered(id, 1)
			}
		})
	}
}

var claimsLine = regexp.MustCompile(`(?m)^salvo_delivery_claims_total\{result="(\w+)"\} (\d+)$`)

// claims reads salvo_delivery_claims_total{result=…} from /metrics.
func claims(t *testing.T, e *deliveryEnv, result string) int {
	t.Helper()
	body := e.App.Call(t, http.MethodGet, "/metrics", "", testutil.NoBody).Want(t, http.StatusOK).Body
	for _, m := range claimsLine.FindAllStringSubmatch(body, -1) {
		if m[1] == result {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}
