package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/testutil"
)

// dkimNeedles are pieces of the test DKIM key that must never be stored in
// plaintext: PEM armour and body lines of its private part, and its private
// exponent and primes raw, in hex and in base64 at every byte alignment.
func dkimNeedles(t *testing.T) map[string][]byte {
	t.Helper()
	key, err := testutil.KeyGen(1024) // what StartApp's seam gives every domain
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := dkim.MarshalPrivate(key)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"PEM armour": []byte("PRIVATE KEY-----")}
	lines := strings.Split(strings.TrimSpace(string(pemKey)), "\n")
	// The first lines hold the modulus, which the public DNS value shares.
	for i := len(lines) / 2; i < len(lines)-2; i++ {
		out[fmt.Sprintf("PEM line %d", i)] = []byte(lines[i])
	}
	for name, n := range map[string][]byte{"D": key.D.Bytes(), "P": key.Primes[0].Bytes(), "Q": key.Primes[1].Bytes()} {
		out["raw "+name] = n[:32]
		out["hex "+name] = []byte(hex.EncodeToString(n[:32]))
		out["HEX "+name] = []byte(strings.ToUpper(hex.EncodeToString(n[:32])))
		for shift := range 3 {
			out[fmt.Sprintf("base64 %s at %d", name, shift)] = []byte(base64.StdEncoding.EncodeToString(n[shift : shift+45])[:56])
		}
	}
	return out
}

// readDataDir returns every file under dir by relative path.
func readDataDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNoSecretsAtRest: API keys, SMTP passwords and DKIM private keys are
// never written to the data dir in plaintext, and its files are private.
func TestNoSecretsAtRest(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	const password = "Smtp-pass-9k2Lq"
	createDomain(t, ta, "secret.example.com", "smtp_password", password)
	createDomain(t, ta, "other.example.com")
	needles := dkimNeedles(t)
	needles["primary key"] = []byte(ta.Key)
	needles["smtp password"] = []byte(password)
	needles["admin key"] = []byte(roleKey(t, ta, "admin").Secret)
	needles["sending key"] = []byte(sendingKey(t, ta, "secret.example.com").Secret)
	d, err := ta.Domains.Get(context.Background(), "secret.example.com")
	if err != nil {
		t.Fatal(err)
	}
	var publicDKIM string
	for _, r := range ta.Domains.Records(d) {
		if strings.HasPrefix(r.Value, "k=rsa; p=") {
			publicDKIM = strings.TrimPrefix(r.Value, "k=rsa; p=")
		}
	}

	check := func(when string, wantWAL bool) {
		files := readDataDir(t, ta.Cfg.DataDir)
		var all [][]byte
		sawWAL := false
		for name, b := range files {
			all = append(all, b)
			sawWAL = sawWAL || strings.HasSuffix(name, "-wal")
			info, err := os.Stat(filepath.Join(ta.Cfg.DataDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s: %s has mode %v, want 0600", when, name, perm)
			}
			for what, needle := range needles {
				if bytes.Contains(b, needle) {
					t.Errorf("%s: %s contains the %s in plaintext", when, name, what)
				}
			}
		}
		if _, ok := files["secret.key"]; !ok || len(files) < 3 || sawWAL != wantWAL {
			t.Errorf("%s: data dir holds %d files (WAL %v); want secret.key, the stores and WAL %v", when, len(files), sawWAL, wantWAL)
		}
		// The scan must see what is stored: the public DKIM value is.
		if joined := bytes.Join(all, nil); publicDKIM == "" || !bytes.Contains(joined, []byte(publicDKIM)) || !bytes.Contains(joined, []byte("other.example.com")) {
			t.Errorf("%s: the scan did not find the stored public DKIM value or domain names", when)
		}
	}
	check("while running", true)
	ta.Stop(t)
	check("after stop", false)
}
