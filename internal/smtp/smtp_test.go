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
