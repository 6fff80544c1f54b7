package e2e

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
)

// slowConn makes every read of the receiving server's replies wait, so
// one SMTP transaction takes several seconds.
type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Read(p []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Read(p)
}

// TestSendSlowDeliveryKeepsItsLease: a delivery that takes longer than
// the lease is still delivered once; the engine renews the leases of the
// jobs it is working on, so nothing claims them again meanwhile.
func TestSendSlowDeliveryKeepsItsLease(t *testing.T) {
	t.Parallel()
	onBothStores(t, testSlowDelivery)
}

func testSlowDelivery(t *testing.T, pg bool) {
	e := startSendEnv(t, sendEnvOptions{
		postgres:  pg,
		configure: func(c *config.Config) { c.Lease = time.Second },
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return slowConn{Conn: c, delay: 400 * time.Millisecond}, nil
		},
	})
	start := time.Now()
	e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"slow@dest.example"}, "subject": {"slow"}, "text": {"x"}})
	e.waitEvents("delivered", 1)
	if took := time.Since(start); took < 2*time.Second {
		t.Fatalf("the delivery took %s; the test needs it to outlast the 1s lease", took)
	}
	time.Sleep(2500 * time.Millisecond) // a second claim would deliver again by now
	if n := e.mx.RecipientCount(); n != 1 {
		t.Errorf("the MX got %d copies, want 1", n)
	}
	if n := len(e.storeEvents("delivered")); n != 1 {
		t.Errorf("%d delivered events, want 1", n)
	}
}
