package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDeliveryDeadDestination: a destination that refuses connections is
// not dialled once per message: after the first failures it is marked
// down, its mail is deferred without a connection (a temporary failure
// event each, "destination unreachable"), and the queue view shows the
// state. When it answers again, one probe after the backoff finds it up
// and the deferred mail is delivered at once, not at its next retry.
func TestDeliveryDeadDestination(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, envOptions{postgres: pg})
			ip := e.addMXHost("dead.test", 10, "mx.dead.test", nil) // nothing listens
			const n = 30
			var ids []string
			for i := range n {
				ids = append(ids, e.send(e.message(fmt.Sprintf("r%02d@dead.test", i))))
			}
			for _, id := range ids {
				e.waitFailed(id, "temporary", "generic")
			}
			dials := func() int {
				c := 0
				for _, d := range e.Net.Dials() {
					if strings.HasPrefix(d, ip+":") {
						c++
					}
				}
				return c
			}
			// At most one connection per chunk in flight before the first
			// failure was known (the per-destination limit), not one per message.
			if d := dials(); d > 8 {
				t.Fatalf("%d messages cost %d connection attempts, want at most 8", n, d)
			}
			deferred := 0
			for _, id := range ids {
				f := e.waitOutcomes(id, 1).Failed[0]
				if strings.HasPrefix(f.DeliveryStatus.Message, "destination unreachable") {
					deferred++
					if f.DeliveryStatus.Code != 421 || f.DeliveryStatus.EnhancedCode != "4.4.1" {
						t.Fatalf("deferral status = %+v", f.DeliveryStatus)
					}
				}
			}
			if deferred == 0 {
				t.Fatalf("no message was deferred without a connection")
			}

			// The queue view says why.
			var st mgapi.QueueStatus
			req, _ := http.NewRequest(http.MethodGet, e.App.URL+"/v3/"+senderDomain+"/queue", nil)
			req.SetBasicAuth("api", e.App.Key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil || len(st.Destinations) != 1 {
				t.Fatalf("queue = %+v, %v", st, err)
			}
			if d := st.Destinations[0]; d.Destination != "dead.test" || d.State != "backing-off" || d.Waiting != n ||
				d.DownUntil == nil || !strings.Contains(d.DownError, "refused") {
				t.Fatalf("queue destination = %+v", d)
			}

			// Back: after the backoff one probe finds it up, and everything
			// goes at once — the messages' own retries are 10 minutes away.
			mx := testutil.StartFakeMX(t, testutil.MXOptions{})
			e.Net.Route(ip, mx)
			before := dials()
			e.advance(31 * time.Second)
			mx.WaitRecipients(t, n, waitTimeout)
			for _, id := range ids {
				o := e.waitOutcomes(id, 2)
				if len(o.Delivered) != 1 {
					t.Fatalf("message %s: %s", id, o)
				}
			}
			if extra := dials() - before; extra > 1+8 {
				t.Fatalf("recovery took %d connections (a probe, then at most the per-destination limit)", extra)
			}
		})
	}
}
