package secret_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/salvo-email/salvo/internal/secret"
)

var (
	secretA = []byte("0123456789abcdef-secret-a")
	secretB = []byte("0123456789abcdef-secret-b")
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box := secret.New(secretA)
	plain := []byte("key-0123456789abcdef")
	sealed := box.Seal("primary key", plain)
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again := box.Seal("primary key", plain); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes; the nonce is not random")
	}
	for _, b := range []*secret.Box{box, secret.New(secretA)} { // a new Box from the same secret opens it too
		got, err := b.Open("primary key", sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}
	got, err := box.Open("empty", box.Seal("empty", nil))
	if err != nil || len(got) != 0 {
		t.Fatalf("Open of a sealed empty value = %q, %v", got, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	box := secret.New(secretA)
	sealed := box.Seal("dkim:a.example.com", []byte("private key"))
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	for _, tc := range []struct {
		name    string
		box     *secret.Box
		purpose string
		sealed  []byte
	}{
		{"wrong purpose", box, "dkim:b.example.com", sealed},
		{"wrong secret", secret.New(secretB), "dkim:a.example.com", sealed},
		{"damaged", box, "dkim:a.example.com", damaged},
		{"truncated", box, "dkim:a.example.com", sealed[:10]},
		{"empty", box, "dkim:a.example.com", nil},
	} {
		got, err := tc.box.Open(tc.purpose, tc.sealed)
		if !errors.Is(err, secret.ErrOpen) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", tc.name, got, err)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	a1, a2, b := secret.New(secretA).Check(), secret.New(secretA).Check(), secret.New(secretB).Check()
	if a1 != a2 {
		t.Errorf("Check of one secret differs: %q, %q", a1, a2)
	}
	if a1 == b {
		t.Errorf("two secrets have the same Check %q", a1)
	}
	if len(a1) != 32 || bytes.Contains([]byte(a1), secretA) {
		t.Errorf("Check = %q, want 32 hex digits that do not show the secret", a1)
	}
}

func TestLoadCreatesOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := secret.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 {
		t.Fatalf("generated secret has %d bytes", len(first))
	}
	path := filepath.Join(dir, secret.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", secret.FileName, mode)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := secret.Load(dir, "")
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second Load = %q, %v; want the first secret", again, err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, onDisk) {
		t.Error("second Load rewrote the secret file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s", len(entries), secret.FileName)
	}
}

// TestLoadConcurrent starts several loaders on an empty data dir, as nodes
// of one machine starting together do: they must all get the same secret.
func TestLoadConcurrent(t *testing.T) {
	t.Parallel()
	for range 20 {
		dir := t.TempDir()
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = secret.Load(dir, "") })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Load %d: %v", i, errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("concurrent Loads returned %q and %q", got[0], got[i])
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("data dir holds %d entries, want only %s", len(entries), secret.FileName)
		}
	}
}

func TestLoadConfiguredWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got, err := secret.Load(dir, "configured-secret-0123")
	if err != nil || string(got) != "configured-secret-0123" {
		t.Fatalf("Load = %q, %v; want the configured secret", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, secret.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load with a configured secret touched %s: %v", secret.FileName, err)
	}
	if _, err := secret.Load(dir, ""); err != nil { // now the file exists
		t.Fatal(err)
	}
	got, err = secret.Load(dir, "configured-secret-0123")
	if err != nil || string(got) != "configured-secret-0123" {
		t.Fatalf("Load with a file present = %q, %v; want the configured secret", got, err)
	}
}

func TestLoadRefusesShortFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, secret.FileName), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := secret.Load(dir, ""); err == nil {
		t.Fatalf("Load of a too short secret file = %q, want an error", got)
	}
}
