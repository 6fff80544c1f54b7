package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// dialSMTPFrom opens a plain SMTP session from the loopback address src
// (127.0.0.0/8 is all loopback, so a test can be several clients).
func dialSMTPFrom(t testing.TB, src, addr string) (*smtp.Client, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		return nil, err
	}
	return c, nil
}

// TestRelayAuthThrottleParallel: 60 parallel wrong AUTHs for one
// credential from one address (real sockets, a bcrypt cost that makes the
// check slow) are throttled like sequential ones: at most the allowance
// (5) is checked (535), the rest get 454 4.7.0 before any check; and the
// credential's owner on another address still gets in.
func TestRelayAuthThrottleParallel(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{bcryptCost: 10, configure: func(c *config.Config) {
		c.SMTP.AuthFailureDelay = 10 * time.Millisecond
		c.SMTP.InsecureAuthLoopback = true
		c.SMTP.MaxConnectionsPerClient = 100 // 60 at once from 127.0.0.1
	}})
	e.app.Call(t, http.MethodPost, "/v3/domains/"+testDomain+"/credentials", e.app.Key,
		testutil.Form(url.Values{"login": {"app"}, "password": {relayPassword}})).Want(t, http.StatusOK)
	const n = 60
	clients := make([]*smtp.Client, n)
	for i := range clients {
		c, err := dialSMTPFrom(t, "127.0.0.1", e.app.SubmissionAddr())
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Distinct passwords: identical checks in flight are shared.
			err := c.Auth(sasl.NewPlainClient("", relayLogin, fmt.Sprintf("wrong-%d", i)))
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				t.Errorf("AUTH %d: %v", i, err)
				codes <- 0
				return
			}
			codes <- se.Code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	t.Logf("60 parallel wrong AUTHs: %v", count)
	if count[535] < 1 || count[535] > 5 || count[535]+count[454] != n {
		t.Fatalf("60 parallel wrong AUTHs answered %v: want at most 5 checked (535), the rest 454", count)
	}
	owner, err := dialSMTPFrom(t, "127.0.0.2", e.app.SubmissionAddr())
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Auth(sasl.NewPlainClient("", relayLogin, relayPassword)); err != nil {
		t.Fatalf("the owner from another address: %v", err)
	}
}

// TestDeliveryPanicFreesTheSlot: a panic while delivering one chunk (here
// the dialer, a seam of the engine, panics once) is recovered at the unit
// of work: it is counted, the connection slot is freed (with one delivery
// worker, a second message to another destination is still delivered),
// and the panicked job is retried on the schedule, not at once and not
// only after a restart.
func TestDeliveryPanicFreesTheSlot(t *testing.T) {
	t.Parallel()
	var panicked atomic.Bool
	e := startSendEnv(t, sendEnvOptions{
		configure: func(c *config.Config) { c.DeliveryWorkers = 1 },
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if panicked.CompareAndSwap(false, true) {
				panic("dialer exploded")
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	})
	e.app.ExpectedPanics = 1
	e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"first@one.example"}, "subject": {"panics"}, "text": {"x"}})
	waitFor(t, 20*time.Second, func() bool { return e.app.Metrics.PanicCount() == 1 },
		func() string { return fmt.Sprintf("%d panics counted, want 1", e.app.Metrics.PanicCount()) })
	e.send(url.Values{"from": {"sender@" + testDomain}, "to": {"second@two.example"}, "subject": {"after"}, "text": {"x"}})
	got := waitReceived(t, e, 1)
	if len(got[0].To) != 1 || got[0].To[0] != "second@two.example" {
		t.Fatalf("first delivery went to %v, want second@two.example", got[0].To)
	}
	time.Sleep(1500 * time.Millisecond) // more than a claim interval
	if n := len(e.mx.Messages()); n != 1 {
		t.Fatalf("the panicked job was retried at once: the MX has %d messages", n)
	}
	e.clock.Advance(10*time.Minute + time.Second) // the first retry delay
	got = waitReceived(t, e, 2)
	if to := byRecipient(got); len(to["first@one.example"]) != 1 {
		t.Fatalf("after the retry delay: MX got %v", to)
	}
}

// panickyTransport panics on its first request (a component of the route
// worker that panics), then posts for real.
type panickyTransport struct{ panicked atomic.Bool }

func (p *panickyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.panicked.CompareAndSwap(false, true) {
		panic("transport exploded")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRouteJobPanicKeepsTheWorker: a panic in one route job (its forward
// POST) is recovered at the unit of work: it is counted, the only route
// worker lives on (a second message's forward is posted), and the job is
// retried on the webhook schedule.
func TestRouteJobPanicKeepsTheWorker(t *testing.T) {
	t.Parallel()
	e := startMXEnvSeams(t, app.Seams{RouteHTTP: &http.Client{Transport: &panickyTransport{}}},
		func(c *config.Config) { c.SMTP.InboundWorkers = 1 })
	e.app.ExpectedPanics = 1
	e.route(0, `match_recipient("(.*)@mg.example.com")`, `forward("`+e.hook.URL+`/in")`)
	first := []byte(rfcMessage("someone@elsewhere.org", "first@"+testDomain, "first", "hello"))
	if err := e.deliverMX("someone@elsewhere.org", []string{"first@" + testDomain}, first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return e.app.Metrics.PanicCount() == 1 },
		func() string { return fmt.Sprintf("%d panics counted, want 1", e.app.Metrics.PanicCount()) })
	second := []byte(rfcMessage("someone@elsewhere.org", "second@"+testDomain, "second", "hello"))
	if err := e.deliverMX("someone@elsewhere.org", []string{"second@" + testDomain}, second); err != nil {
		t.Fatal(err)
	}
	e.hook.waitPosts(t, "/in", 1)
	time.Sleep(1500 * time.Millisecond) // more than a claim interval
	if n := len(e.hook.postsTo("/in")); n != 1 {
		t.Fatalf("the panicked job was retried at once: %d POSTs", n)
	}
	e.clock.Advance(webhooks.Schedule[0] + time.Second)
	e.app.Inbound.Notify()
	e.hook.waitPosts(t, "/in", 2)
}

// TestSMTPConnectionsPerClient: on the MX and the submission listener, a
// client holding the default cap of 20 connections gets 421 4.7.0 for its
// 21st, while another client address (127.0.0.2) still gets in.
func TestSMTPConnectionsPerClient(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	for name, addr := range map[string]string{"mx": ta.MXAddr(), "submission": ta.SubmissionAddr()} {
		for i := 0; i < 20; i++ {
			if _, err := dialSMTPFrom(t, "127.0.0.1", addr); err != nil {
				t.Fatalf("%s: connection %d of the cap: %v", name, i+1, err)
			}
		}
		_, err := dialSMTPFrom(t, "127.0.0.1", addr)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 421 || !strings.Contains(se.Message, "from your address") {
			t.Fatalf("%s: the 21st connection from one address: %v, want 421 4.7.0", name, err)
		}
		if _, err := dialSMTPFrom(t, "127.0.0.2", addr); err != nil {
			t.Fatalf("%s: another client address: %v", name, err)
		}
	}
}

// TestHTTPSlowBodyIsCut: a request whose body trickles in is cut once
// --http-read-timeout has passed (the connection does not stay open
// indefinitely), and nothing is accepted from it.
func TestHTTPSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{configure: func(c *config.Config) { c.HTTPReadTimeout = time.Second }})
	conn, err := net.Dial("tcp", e.app.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"from": {"sender@" + testDomain}, "to": {"slow@dest.example"}, "subject": {"slow"}, "text": {strings.Repeat("x", 10000)}}.Encode()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v3/%s/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
		testDomain, base64.StdEncoding.EncodeToString([]byte("api:"+e.app.Key)), len(body))
	// A byte every 200 ms: the whole body would take over half an hour.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(body); i++ {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	reply, err := io.ReadAll(conn)
	took := time.Since(start)
	if took > 10*time.Second {
		t.Fatalf("slow body still open after %s (read: %v)", took, err)
	}
	if resp := string(reply); strings.HasPrefix(resp, "HTTP/1.1 5") || strings.HasPrefix(resp, "HTTP/1.1 200") {
		t.Fatalf("slow body answered %q", strings.SplitN(resp, "\r\n", 2)[0])
	}
	t.Logf("slow body cut after %s; reply %q", took.Round(time.Millisecond), strings.SplitN(string(reply), "\r\n", 2)[0])
	conn.Close()
	<-done
	if n := len(e.storeEvents("accepted")); n != 0 {
		t.Fatalf("%d accepted events from the cut request", n)
	}
}

// TestRelayRevocationAtNextMail: a session that authenticated before its
// credential was deleted, or given a new password, is refused at its next
// MAIL FROM (530 5.7.0), as is one whose domain was deleted (550 5.7.1).
func TestRelayRevocationAtNextMail(t *testing.T) {
	t.Parallel()
	e := startRelayEnv(t, false, nil)
	raw := rfcMessage("app@"+testDomain, "x@example.org", "revoked", "body")
	credPath := "/v3/domains/" + testDomain + "/credentials/"

	c := relayClient(t, e)
	if _, err := submit(c, "app@"+testDomain, []string{"x@example.org"}, raw); err != nil {
		t.Fatalf("before the deletion: %v", err)
	}
	e.app.Call(t, http.MethodDelete, credPath+relayLogin, e.app.Key, testutil.NoBody).Want(t, http.StatusOK)
	_, err := submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "MAIL after the credential was deleted", err, 530, "5.7.0", "revoked")
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "the MAIL after that", err, 530, "5.7.0", "Authentication required")

	e.app.Call(t, http.MethodPost, "/v3/domains/"+testDomain+"/credentials", e.app.Key,
		testutil.Form(url.Values{"login": {"app"}, "password": {relayPassword}})).Want(t, http.StatusOK)
	c = relayClient(t, e)
	e.app.Call(t, http.MethodPut, credPath+relayLogin, e.app.Key,
		testutil.Form(url.Values{"password": {"another-password"}})).Want(t, http.StatusOK)
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	wantSMTPError(t, "MAIL after a password change", err, 530, "5.7.0", "revoked")

	if n := len(e.storeEvents("accepted")); n != 1 {
		t.Fatalf("%d messages accepted, want only the one before the deletion", n)
	}

	c = dialSMTP(t, e.app.SubmissionAddr(), "starttls")
	if err := c.Auth(sasl.NewPlainClient("", relayLogin, "another-password")); err != nil {
		t.Fatalf("AUTH with the new password: %v", err)
	}
	e.app.Call(t, http.MethodDelete, "/v3/domains/"+testDomain, e.app.Key, testutil.NoBody).Want(t, http.StatusOK)
	_, err = submit(c, "app@"+testDomain, []string{"x@example.org"}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code < 500 {
		t.Fatalf("MAIL after the domain was deleted: %v, want a 5xx", err)
	}
}

// TestHTTPRevocationBeforeAccept: a send whose upload is still running
// when its key is deleted is refused (401) once its body is in, and
// nothing is accepted: the key is checked again before the accept.
func TestHTTPRevocationBeforeAccept(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	key := sendingKey(t, e.app, testDomain)
	conn, err := net.Dial("tcp", e.app.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"from": {"sender@" + testDomain}, "to": {"late@dest.example"}, "subject": {"late"}, "text": {"x"}}.Encode()
	fmt.Fprintf(conn, "POST /v3/%s/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		testDomain, base64.StdEncoding.EncodeToString([]byte("api:"+key.Secret)), len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server has the headers and part of the body
	e.app.Call(t, http.MethodDelete, "/v1/keys/"+key.ID, e.app.Key, testutil.NoBody).Want(t, http.StatusOK)
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 401") {
		t.Fatalf("send finished after its key was deleted: %q %v, want 401", status, err)
	}
	if n := len(e.storeEvents("accepted")); n != 0 {
		t.Fatalf("%d messages accepted with a deleted key", n)
	}
}
