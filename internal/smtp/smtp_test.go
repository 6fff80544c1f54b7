package smtp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/salvo-email/salvo/internal/obs"
	"github.com/salvo-email/salvo/internal/secret"
)

// panicky is a backend whose MAIL panics.
type panicky struct{}

func (panicky) NewSession(*Conn) (gosmtp.Session, error) { return panickySession{}, nil }

type panickySession struct{}

func (panickySession) Reset()        {}
func (panickySession) Logout() error { return nil }
func (panickySession) Mail(string, *gosmtp.MailOptions) error {
	panic("boom")
}
func (panickySession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (panickySession) Data(io.Reader) error                   { return nil }

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimSpace(line)
}

// TestLimitsAndPanics: a connection beyond MaxConnections gets 421 4.7.0;
// a panicking session method is recovered, counted and answered 421 4.3.0.
func TestLimitsAndPanics(t *testing.T) {
	t.Parallel()
	m := obs.NewMetrics()
	s, err := Listen(Config{Name: "test", Addr: "127.0.0.1:0", Hostname: "mx.test", MaxConnections: 1},
		panicky{}, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	first, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	r1 := bufio.NewReader(first)
	if g := readLine(t, r1); !strings.HasPrefix(g, "220 mx.test") {
		t.Fatalf("greeting %q", g)
	}
	second, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if g := readLine(t, bufio.NewReader(second)); !strings.HasPrefix(g, "421 4.7.0") {
		t.Errorf("connection over the limit: %q, want 421 4.7.0", g)
	}
	_, _ = first.Write([]byte("HELO c.test\r\n"))
	readLine(t, r1)
	_, _ = first.Write([]byte("MAIL FROM:<a@b.test>\r\n"))
	if got := readLine(t, r1); !strings.HasPrefix(got, "421 4.3.0") {
		t.Errorf("panicking MAIL: %q, want 421 4.3.0", got)
	}
	if n := m.PanicCount(); n != 1 {
		t.Errorf("%d panics counted, want 1", n)
	}
	first.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// TestSelfSigned: the self-signed certificate is made once, kept with
// private files and its key sealed, and read back on the next start.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	box := secret.New(bytes.Repeat([]byte{7}, 32))
	a, err := LoadTLS("", "", dir, "mx.test", box)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadTLS("", "", dir, "mx.test", box)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Certificates[0].Certificate[0], b.Certificates[0].Certificate[0]) {
		t.Error("a second start made another certificate")
	}
	for _, name := range []string{SelfSignedCert, SelfSignedKey} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", name, info, err)
		}
	}
	key, _ := os.ReadFile(filepath.Join(dir, SelfSignedKey))
	if bytes.Contains(key, []byte("PRIVATE KEY")) {
		t.Error("the private key is stored in plaintext")
	}
	other := secret.New(bytes.Repeat([]byte{8}, 32))
	if _, err := LoadTLS("", "", dir, "mx.test", other); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("LoadTLS with another secret: %v", err)
	}
	if _, err := LoadTLS(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "missing.key"), dir, "mx.test", box); err == nil ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadTLS with missing files: %v", err)
	}
}

// dialFrom connects to addr from the loopback address src and returns the
// connection with its first reply line.
func dialFrom(t *testing.T, src, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	return c, r, readLine(t, r)
}

// TestPerClientLimit: a client holding MaxConnectionsPerClient connections
// gets 421 4.7.0 for the next one, while a client on another address
// (127.0.0.2) still gets in; a closed connection frees its client's slot.
func TestPerClientLimit(t *testing.T) {
	t.Parallel()
	s, err := Listen(Config{Name: "test", Addr: "127.0.0.1:0", Hostname: "mx.test", MaxConnections: 100, MaxConnectionsPerClient: 3},
		panicky{}, slog.New(slog.NewTextHandler(io.Discard, nil)), obs.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, _, g := dialFrom(t, "127.0.0.1", s.Addr())
		if !strings.HasPrefix(g, "220 mx.test") {
			t.Fatalf("connection %d: %q", i+1, g)
		}
		held = append(held, c)
	}
	if _, _, g := dialFrom(t, "127.0.0.1", s.Addr()); !strings.HasPrefix(g, "421 4.7.0") || !strings.Contains(g, "from your address") {
		t.Fatalf("connection over the per-client cap: %q, want 421 4.7.0", g)
	}
	if _, _, g := dialFrom(t, "127.0.0.2", s.Addr()); !strings.HasPrefix(g, "220 mx.test") {
		t.Fatalf("another client address: %q, want 220", g)
	}
	held[0].Close()
	waitUntil(t, func() bool {
		c, _, g := dialFrom(t, "127.0.0.1", s.Addr())
		c.Close()
		return strings.HasPrefix(g, "220")
	})
}

// waitUntil retries cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFirstCommandTimeout: a client that says nothing after the greeting
// is disconnected after FirstCommandTimeout; one that talks keeps the
// usual command timeout between commands.
func TestFirstCommandTimeout(t *testing.T) {
	t.Parallel()
	s, err := Listen(Config{Name: "test", Addr: "127.0.0.1:0", Hostname: "mx.test", FirstCommandTimeout: 300 * time.Millisecond},
		panicky{}, slog.New(slog.NewTextHandler(io.Discard, nil)), obs.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	start := time.Now()
	_, idle, _ := dialFrom(t, "127.0.0.1", s.Addr())
	_, err = io.ReadAll(idle) // the server closes the connection
	if took := time.Since(start); err != nil || took > 5*time.Second {
		t.Fatalf("idle client: read ended after %s with %v, want closed after ~300ms", took, err)
	}
	c, r, _ := dialFrom(t, "127.0.0.1", s.Addr())
	_, _ = c.Write([]byte("EHLO c.test\r\n"))
	for line := readLine(t, r); strings.HasPrefix(line, "250-"); line = readLine(t, r) {
	}
	time.Sleep(600 * time.Millisecond) // twice the first-command bound
	_, _ = c.Write([]byte("NOOP\r\n"))
	if got := readLine(t, r); !strings.HasPrefix(got, "250") {
		t.Fatalf("NOOP after a pause in a started session: %q", got)
	}
}
