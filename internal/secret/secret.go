// Package secret seals what Salvo must be able to reveal later (the primary
// API key, webhook signing keys, DKIM private keys) so that no store holds
// it in plaintext.
//
// The sealing secret lives outside the databases: SALVO_SECRET, or a random
// 32-byte secret in <data-dir>/secret.key (mode 0600) created on first
// start. Every node of a deployment must share it; Check gives a fingerprint
// that the app stores once in the global store and compares on every start,
// so a node with the wrong secret refuses to start instead of failing later.
//
// Sealing is AES-256-GCM with a random nonce; the purpose string ("primary
// key", "dkim:example.com") is bound as additional data, so a sealed value
// cannot be moved to another purpose.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the secret file's name inside the data dir.
const FileName = "secret.key"

// Box seals and opens values with one secret.
type Box struct {
	aead   cipher.AEAD
	check  string
	derive []byte
}

// New derives a Box from secret.
func New(secret []byte) *Box {
	key := sha256.Sum256(append([]byte("salvo-box-v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("salvo-secret-check-v1"))
	derive := hmac.New(sha256.New, secret)
	derive.Write([]byte("salvo-derive-v1"))
	return &Box{aead: aead, check: hex.EncodeToString(mac.Sum(nil))[:32], derive: derive.Sum(nil)}
}

// Derive returns a 32-byte key for purpose (a MAC key, say), the same on
// every node that shares the secret and unrelated to the sealing key and
// to other purposes' keys.
func (b *Box) Derive(purpose string) []byte {
	mac := hmac.New(sha256.New, b.derive)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// Load returns the configured secret, or the one in dataDir/secret.key,
// creating that file (0600) with a random secret when it does not exist.
func Load(dataDir, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return nil, fmt.Errorf("%s is too short to be a secret; remove it only if no store was created with it", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := Token(32)
	err = createFile(path, []byte(s+"\n"))
	if errors.Is(err, os.ErrExist) {
		return Load(dataDir, "") // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return []byte(s), nil
}

// createFile creates path (0600) holding content, or fails with
// os.ErrExist. No reader ever sees the file partly written, even after a
// crash: the content is written and synced to a temporary file first, which
// is then linked to path.
func createFile(path string, content []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil {
		return err
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil { // make the new name durable
		defer dir.Close()
		return dir.Sync()
	}
	return nil
}

// Check is a fingerprint of the secret that reveals nothing about it.
func (b *Box) Check() string { return b.check }

// Seal encrypts plaintext for purpose.
func (b *Box) Seal(purpose string, plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(purpose))
}

// ErrOpen means a sealed value could not be opened: wrong secret, wrong
// purpose, or damage.
var ErrOpen = errors.New("secret: cannot open sealed value (wrong secret or purpose)")

// Open decrypts a value sealed for purpose.
func (b *Box) Open(purpose string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// Token returns n random bytes as lower-case hex.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
