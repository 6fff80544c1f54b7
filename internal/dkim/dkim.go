// Package dkim makes and reads domain signing keys and the DNS record that
// publishes them (RFC 6376 §3.6.1), and signs outgoing messages.
//
// Private keys leave this package only as PKCS#8 PEM, which callers seal
// (package secret) before storing.
package dkim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// KeyGen makes an RSA key of the given size. It is a seam so tests can reuse
// pre-made keys instead of paying for RSA generation in every test.
type KeyGen func(bits int) (*rsa.PrivateKey, error)

// GenerateKey is the real KeyGen.
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits != 1024 && bits != 2048 {
		return nil, fmt.Errorf("dkim: key size must be 1024 or 2048, not %d", bits)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// MarshalPrivate encodes k as PKCS#8 PEM.
func MarshalPrivate(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivate decodes a PKCS#8 or PKCS#1 PEM RSA key.
func ParsePrivate(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("dkim: no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("dkim: key cannot sign")
		}
		return s, nil
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// PublicValue is the p= value of the DNS record: base64 of the PKIX public key.
func PublicValue(k crypto.Signer) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// RecordName is where the key is published: <selector>._domainkey.<domain>.
func RecordName(selector, domain string) string {
	return selector + "._domainkey." + domain
}

// RecordValue is the TXT record text for a public value.
func RecordValue(public string) string { return "k=rsa; p=" + public }

// RecordMatches reports whether a published TXT value carries public.
func RecordMatches(txt, public string) bool {
	for _, tag := range strings.Split(txt, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(tag), "=")
		if ok && strings.TrimSpace(k) == "p" {
			return strings.Join(strings.Fields(v), "") == public
		}
	}
	return false
}
