package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/shaping"
	"github.com/salvo-email/salvo/internal/testutil"
)

// countingMX is a real SMTP server (go-smtp on 127.0.0.1) that counts
// the messages each session carried, holds
// every message for hold before answering, and answers RCPT with rcpt.
type countingMX struct {
	addr string
	hold time.Duration

	mu       sync.Mutex
	open     int
	maxOpen  int
	sessions []int // messages per session, in the order sessions began
	rcpts    []string
	rcpt     func(string) *smtp.SMTPError
}

func startCountingMX(t *testing.T, hold time.Duration) *countingMX {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &countingMX{addr: ln.Addr().String(), hold: hold}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.open++
		m.maxOpen = max(m.maxOpen, m.open)
		m.sessions = append(m.sessions, 0)
		return &countingSession{mx: m, n: len(m.sessions) - 1}, nil
	}))
	s.Domain = "counting-mx.test"
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return m
}

func (m *countingMX) setRcpt(f func(string) *smtp.SMTPError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcpt = f
}

// stats returns the most sessions open at once, the messages of each
// session and the recipients accepted with a message.
func (m *countingMX) stats() (int, []int, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.maxOpen, append([]int(nil), m.sessions...), append([]string(nil), m.rcpts...)
}

type countingSession struct {
	mx *countingMX
	n  int
	to []string
}

func (s *countingSession) Reset()                               { s.to = nil }
func (s *countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *countingSession) AuthPlain(string, string) error       { return nil }
func (s *countingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mx.mu.Lock()
	f := s.mx.rcpt
	s.mx.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *countingSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	time.Sleep(s.mx.hold)
	s.mx.mu.Lock()
	defer s.mx.mu.Unlock()
	s.mx.sessions[s.n]++
	s.mx.rcpts = append(s.mx.rcpts, s.to...)
	return nil
}

func (s *countingSession) Logout() error {
	s.mx.mu.Lock()
	defer s.mx.mu.Unlock()
	s.mx.open--
	return nil
}

// shapingEnv starts a node whose --shaping is the TOML text.
func shapingEnv(t *testing.T, toml string) *deliveryEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shaping.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return startEnv(t, envOptions{configure: func(c *config.Config) { c.Shaping = path }})
}

// addMXAt publishes "domain MX 10 host" with an address routed to addr.
func (e *deliveryEnv) addMXAt(domain, host, addr string) {
	ip := e.newIP()
	e.DNS.Add(e.t, fmt.Sprintf("%s. 60 IN MX 10 %s.", domain, host), fmt.Sprintf("%s. 60 IN A %s", host, ip))
	e.Net.RouteAddr(ip, addr)
}

// shapingState reads the queue view's shaping entry of group (and, for the
// default group, destination).
func (e *deliveryEnv) shapingState(group string) (shaping.State, bool) {
	e.t.Helper()
	var st mgapi.QueueStatus
	e.App.Call(e.t, http.MethodGet, "/v3/"+senderDomain+"/queue", e.App.Key, testutil.NoBody).Want(e.t, http.StatusOK).Decode(e.t, &st)
	for _, s := range st.Shaping {
		if s.Group == group {
			return s, true
		}
	}
	return shaping.State{}, false
}

// TestShapingConnectionsAndMessagesPerConnection: four recipient domains
// whose MX hosts all match one group's pattern share its connection limit
// (2 at once, where the engine would otherwise open one per domain), and
// no session carries more than the group's 3 messages: the engine says
// QUIT and opens another. The test MX counts both on its side.
func TestShapingConnectionsAndMessagesPerConnection(t *testing.T) {
	t.Parallel()
	e := shapingEnv(t, `
[groups.bigmail]
mx = ["*.bigmail.test"]
max_connections = 2
max_messages_per_connection = 3
`)
	mx := startCountingMX(t, 40*time.Millisecond)
	const domains, perDomain = 4, 6
	// Every message falls due at once, so one claim takes them all and
	// each domain's chunk holds 6: without the limits one session per
	// domain would carry them.
	due := e.Clock.Now().Add(time.Hour)
	var ids []string
	for d := range domains {
		dom := fmt.Sprintf("d%d.shaping.test", d)
		e.addMXAt(dom, fmt.Sprintf("mx%d.in.bigmail.test", d), mx.addr)
		for i := range perDomain {
			m := e.message(fmt.Sprintf("u%d@%s", i, dom))
			m.SetDeliveryTime(due)
			ids = append(ids, e.send(m))
		}
	}
	e.advance(time.Hour + time.Second)
	for _, id := range ids {
		e.waitDelivered(id, 1)
	}
	// Sessions open at once are counted on the client side (MXNet: from
	// dial to close), as the server ends a session only after its reply
	// to QUIT has let the client go on.
	maxOpen := e.Net.MaxOpen(&testutil.FakeMX{Addr: mx.addr})
	_, sessions, rcpts := mx.stats()
	if len(rcpts) != domains*perDomain {
		t.Fatalf("the MX received %d recipients, want %d", len(rcpts), domains*perDomain)
	}
	if maxOpen > 2 {
		t.Fatalf("%d sessions were open at once, want at most the group's 2", maxOpen)
	}
	if maxOpen < 2 {
		t.Fatalf("at most %d session was open at once: the test did not make sessions overlap", maxOpen)
	}
	total := 0
	for i, n := range sessions {
		if n > 3 {
			t.Fatalf("session %d carried %d messages, want at most 3 (sessions: %v)", i, n, sessions)
		}
		total += n
	}
	if want := domains * perDomain / 3; len(sessions) < want || total != domains*perDomain {
		t.Fatalf("sessions %v: want at least %d carrying %d messages", sessions, want, domains*perDomain)
	}
	st, ok := e.shapingState("bigmail")
	if !ok || st.MaxConnections != 2 || st.MaxMessagesPerConnection != 3 || st.State != "normal" || st.Connections != 0 {
		t.Fatalf("queue view shaping = %+v (found %v), want group bigmail, 2 connections, 3 per connection, normal", st, ok)
	}
}

// TestShapingThrottleBackoff: a 421 4.7.0 "slow down" from one domain's MX
// pauses the whole group (another domain on the same provider waits too,
// given back to the queue without an attempt), halves the group's rate
// (the queue view says 30 of 60 per minute, paused, and why), the lowered
// rate holds after the pause (5 messages go, a 60/min bucket would have
// let all through), and deliveries bring it back up by a tenth a minute.
func TestShapingThrottleBackoff(t *testing.T) {
	t.Parallel()
	e := shapingEnv(t, `
[groups.slowmail]
mx = ["*.slowmail.test"]
max_messages_per_minute = 60
throttle_backoff = "2m"
recover_every = "1m"
`)
	mx := startCountingMX(t, 0)
	mx.setRcpt(func(rcpt string) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "slow") {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages, slow down"}
		}
		return nil
	})
	e.addMXAt("a.throttle.test", "mx.a.slowmail.test", mx.addr)
	e.addMXAt("b.throttle.test", "mx.b.slowmail.test", mx.addr)

	slow := e.send(e.message("slow@a.throttle.test"))
	e.waitFailed(slow, "temporary", "generic")
	st, ok := e.shapingState("slowmail")
	if !ok || st.State != "paused" || st.CurrentMessagesPerMinute != 30 || st.MaxMessagesPerMinute != 60 ||
		st.Throttles != 1 || !strings.Contains(st.Reason, "throttled by mx.a.slowmail.test: 421 4.7.0") || st.PausedUntil == nil {
		t.Fatalf("after the throttle the queue view shows %+v (found %v), want slowmail paused at 30/min of 60 and why", st, ok)
	}
	pausedUntil := *st.PausedUntil
	_, sessions, _ := mx.stats()

	// Another domain of the same provider waits for the pause, its job
	// given back due when the pause ends, no attempt counted.
	other := e.send(e.message("ok@b.throttle.test"))
	waitFor(t, waitTimeout, func() bool {
		w := e.queuedJobs(other)
		return len(w) == 1 && !time.Time(w[0].NextAttemptAt).Before(pausedUntil) && w[0].Attempts == 0
	}, func() string {
		return fmt.Sprintf("queued %+v, want one job due at %s, no attempt", e.queuedJobs(other), pausedUntil)
	})
	if _, now, _ := mx.stats(); len(now) != len(sessions) {
		t.Fatalf("the MX had %d sessions during the pause, want %d", len(now), len(sessions))
	}

	// After the pause: 30/min, a bucket of 5 (ten seconds' worth).
	e.advance(2*time.Minute + time.Second)
	e.waitDelivered(other, 1)
	var more []string
	for i := range 8 {
		more = append(more, e.send(e.message(fmt.Sprintf("more%d@b.throttle.test", i))))
	}
	waitFor(t, waitTimeout, func() bool {
		_, _, r := mx.stats()
		waiting := 0
		for _, id := range more {
			waiting += len(e.queuedJobs(id))
		}
		return len(r) == 5 && waiting == 4
	}, func() string {
		_, _, r := mx.stats()
		return fmt.Sprintf("the MX has %d recipients (%v), want 5: the lowered rate's bucket", len(r), r)
	})

	// A minute of deliveries later the rate is up by a tenth of 60.
	e.advance(time.Minute)
	for _, id := range more {
		waitFor(t, waitTimeout, func() bool { return len(e.waitOutcomes(id, 1).Delivered) == 1 },
			func() string { return "message " + id + ": " + e.waitOutcomes(id, 1).String() })
	}
	st, _ = e.shapingState("slowmail")
	if st.State != "recovering" || st.CurrentMessagesPerMinute != 36 || !strings.Contains(st.Reason, "recovering") {
		t.Fatalf("after a minute of deliveries the queue view shows %+v, want recovering at 36/min", st)
	}
}

// queuedJobs returns a message's recipients still in the queue.
func (e *deliveryEnv) queuedJobs(msgID string) []mgapi.QueueWaiting {
	e.t.Helper()
	var st mgapi.QueueStatus
	e.App.Call(e.t, http.MethodGet, "/v3/"+senderDomain+"/queue?message-id="+msgID, e.App.Key,
		testutil.NoBody).Want(e.t, http.StatusOK).Decode(e.t, &st)
	if st.Message == nil {
		return nil
	}
	return st.Message.Waiting
}

// TestShapingCommandTimeout: a group's command_timeout bounds each SMTP
// command of its sessions: an MX host that accepts the connection and
// never greets fails the attempt after the group's 300 ms, not after the
// engine's 5 minutes.
func TestShapingCommandTimeout(t *testing.T) {
	t.Parallel()
	e := shapingEnv(t, `
[groups.mute]
mx = ["*.mute.test"]
command_timeout = "300ms"
`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // silent: no greeting
			mu.Unlock()
		}
	}()
	e.addMXAt("quiet.test", "mx.mute.test", ln.Addr().String())
	start := time.Now()
	id := e.send(e.message("a@quiet.test"))
	f := e.waitFailed(id, "temporary", "generic")
	if took := time.Since(start); !strings.Contains(f.DeliveryStatus.Message, "timeout") || took > 30*time.Second {
		t.Fatalf("failed after %s with %+v, want a timeout within the group's 300ms", took, f.DeliveryStatus)
	}
}
