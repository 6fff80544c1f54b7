package e2e

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"
	"github.com/mailgun/mailgun-go/v4/events"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// senderDomain is the sending domain every delivery test creates.
const senderDomain = "mg.example.test"

// waitTimeout bounds every wait for delivery; generous for -race on a
// busy machine. Waits end as soon as their condition holds.
const waitTimeout = 60 * time.Second

// deliveryEnv is one delivery test's world: a local DNS server, a network
// that routes MX addresses to fake MX servers, a fake clock and a Salvo
// node using all three, with senderDomain created through the API.
type deliveryEnv struct {
	t     *testing.T
	opts  envOptions
	DNS   *testutil.DNSServer
	Net   *testutil.MXNet
	Clock *testutil.Clock
	App   *testutil.TestApp
	MG    *mailgun.MailgunImpl
	// DKIMName and DKIMValue are the sending domain's DKIM TXT record as
	// the API returned it (published in DNS).
	DKIMName, DKIMValue string

	mu     sync.Mutex
	nextIP int
}

type envOptions struct {
	postgres bool
	// rootCAs is the node's trust store for MX certificates (nil: system).
	rootCAs   *x509.CertPool
	configure func(*config.Config)
	// deliveryPoll: see app.Seams.DeliveryPoll.
	deliveryPoll time.Duration
}

// startEnv starts a node with its DNS, MX network and clock.
func startEnv(t *testing.T, o envOptions) *deliveryEnv {
	t.Helper()
	e := &deliveryEnv{t: t, opts: o, DNS: testutil.StartDNS(t), Net: testutil.NewMXNet(),
		Clock: testutil.NewClock(time.Now().UTC().Truncate(time.Second))}
	e.startApp(nil)
	resp, err := e.MG.CreateDomain(context.Background(), senderDomain, nil)
	if err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	for _, r := range resp.SendingDNSRecords {
		if r.RecordType == "TXT" && strings.Contains(r.Value, "p=") {
			e.DKIMName, e.DKIMValue = r.Name, r.Value
		}
	}
	if e.DKIMName == "" {
		t.Fatalf("no DKIM record in %+v", resp.SendingDNSRecords)
	}
	e.DNS.Add(t, e.DKIMName+`. 60 IN TXT "`+e.DKIMValue+`"`)
	return e
}

// startEnvMX starts an env with one plain fake MX serving domain.
func startEnvMX(t *testing.T, o envOptions, domain string) (*deliveryEnv, *testutil.FakeMX) {
	t.Helper()
	e := startEnv(t, o)
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	e.addMX(domain, mx)
	return e, mx
}

// startApp starts the node; with prev it reopens prev's stores (a restart).
func (e *deliveryEnv) startApp(prev *testutil.TestApp) {
	e.App = testutil.StartApp(e.t, testutil.AppOptions{
		Postgres: e.opts.postgres && prev == nil,
		Configure: func(c *config.Config) {
			c.DNS = e.DNS.Addr
			c.Hostname = "salvo.test"
			if prev != nil {
				c.DataDir, c.DatabaseURL, c.GlobalDatabaseURL = prev.Cfg.DataDir, prev.Cfg.DatabaseURL, prev.Cfg.GlobalDatabaseURL
				c.APIKey = prev.Key
			}
			if e.opts.configure != nil {
				e.opts.configure(c)
			}
		},
		Seams: app.Seams{Now: e.Clock.Now, Dial: e.Net.Dial, DialFrom: e.Net.DialFrom, RootCAs: e.opts.rootCAs, DeliveryPoll: e.opts.deliveryPoll},
	})
	e.MG = mailgun.NewMailgun(senderDomain, e.App.Key)
	e.MG.SetAPIBase(e.App.URL + "/v3")
}

// forEachStore runs f on the embedded store and on PostgreSQL, each time
// with an env and a plain fake MX serving domain.
func forEachStore(t *testing.T, domain string, f func(t *testing.T, e *deliveryEnv, mx *testutil.FakeMX)) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			e, mx := startEnvMX(t, envOptions{postgres: pg}, domain)
			f(t, e, mx)
		})
	}
}

// newIP returns an unused TEST-NET-1 address.
func (e *deliveryEnv) newIP() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextIP++
	return fmt.Sprintf("192.0.2.%d", e.nextIP)
}

// addMX publishes "domain MX 10 mx.domain" with an address routed to mx
// and returns the MX host name.
func (e *deliveryEnv) addMX(domain string, mx *testutil.FakeMX) string {
	host := "mx." + domain
	e.addMXHost(domain, 10, host, mx)
	return host
}

// addMXHost publishes an MX record of domain for host with an address
// routed to mx (nil: an address nothing listens on); it returns the address.
func (e *deliveryEnv) addMXHost(domain string, pref int, host string, mx *testutil.FakeMX) string {
	ip := e.newIP()
	e.DNS.Add(e.t, fmt.Sprintf("%s. 60 IN MX %d %s.", domain, pref, host), fmt.Sprintf("%s. 60 IN A %s", host, ip))
	if mx != nil {
		e.Net.Route(ip, mx)
	}
	return ip
}

// message is a plain message from the sending domain.
func (e *deliveryEnv) message(to ...string) *mailgun.Message {
	return mailgun.NewMessage("Sender <sender@"+senderDomain+">", "Hello", "Hello there", to...)
}

// send submits m through the API and returns its Message-ID (no brackets).
func (e *deliveryEnv) send(m *mailgun.Message) string {
	e.t.Helper()
	_, id, err := e.MG.Send(context.Background(), m)
	if err != nil {
		e.t.Fatalf("Send: %v", err)
	}
	return strings.Trim(id, "<>")
}

// advance moves the clock and wakes the delivery engine.
func (e *deliveryEnv) advance(d time.Duration) {
	e.Clock.Advance(d)
	e.App.Delivery.Notify()
}

// events lists a message's events, oldest first, through the SDK.
func (e *deliveryEnv) events(msgID string) []mailgun.Event {
	e.t.Helper()
	it := e.MG.ListEvents(&mailgun.ListEventOptions{ForceAscending: true, Limit: 300,
		Filter: map[string]string{"message-id": msgID}})
	var all, page []mailgun.Event
	for it.Next(context.Background(), &page) {
		all = append(all, page...)
	}
	if err := it.Err(); err != nil {
		e.t.Fatalf("ListEvents: %v", err)
	}
	return all
}

// outcomes are a message's delivered and failed events.
type outcomes struct {
	Delivered []*events.Delivered
	Failed    []*events.Failed
}

func (o outcomes) String() string {
	var b strings.Builder
	for _, d := range o.Delivered {
		fmt.Fprintf(&b, "delivered %s %+v; ", d.Recipient, d.DeliveryStatus)
	}
	for _, f := range o.Failed {
		fmt.Fprintf(&b, "failed %s %s/%s %+v; ", f.Recipient, f.Severity, f.Reason, f.DeliveryStatus)
	}
	return b.String()
}

// waitOutcomes waits until a message has at least n delivered or failed
// events and returns them.
func (e *deliveryEnv) waitOutcomes(msgID string, n int) outcomes {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		var o outcomes
		for _, ev := range e.events(msgID) {
			switch x := ev.(type) {
			case *events.Delivered:
				o.Delivered = append(o.Delivered, x)
			case *events.Failed:
				o.Failed = append(o.Failed, x)
			}
		}
		if len(o.Delivered)+len(o.Failed) >= n {
			return o
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("message %s: %d outcome events after %s, want %d: %s", msgID,
				len(o.Delivered)+len(o.Failed), waitTimeout, n, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDelivered waits for one delivered event and checks the attempt.
func (e *deliveryEnv) waitDelivered(msgID string, attempt int) *events.Delivered {
	e.t.Helper()
	o := e.waitOutcomes(msgID, 1)
	if len(o.Delivered) != 1 || len(o.Failed) != 0 {
		e.t.Fatalf("message %s: want one delivered event, got %s", msgID, o)
	}
	d := o.Delivered[0]
	if d.DeliveryStatus.Code != 250 || d.DeliveryStatus.AttemptNo != attempt {
		e.t.Fatalf("delivered status = %+v, want code 250 attempt %d", d.DeliveryStatus, attempt)
	}
	return d
}

// waitFailed waits for one failed event of a message and checks its class.
func (e *deliveryEnv) waitFailed(msgID, severity, reason string) *events.Failed {
	e.t.Helper()
	o := e.waitOutcomes(msgID, 1)
	if len(o.Failed) != 1 || len(o.Delivered) != 0 {
		e.t.Fatalf("message %s: want one failed event, got %s", msgID, o)
	}
	f := o.Failed[0]
	if f.Severity != severity || f.Reason != reason {
		e.t.Fatalf("failed event = %s/%s (%+v), want %s/%s", f.Severity, f.Reason, f.DeliveryStatus, severity, reason)
	}
	return f
}

// waitLog waits until the node logged a line containing s.
func (e *deliveryEnv) waitLog(s string) {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(e.App.Logs.String(), s) {
		if time.Now().After(deadline) {
			e.t.Fatalf("the node never logged %q", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isTrue reads an optional flag of the SDK's delivery-status.
func isTrue(b *bool) bool { return b != nil && *b }
