package smtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Self-signed certificate files kept in the data dir: the certificate,
// and its private key sealed with the node's secret (never in plaintext).
const (
	SelfSignedCert = "smtp-tls-cert.pem"
	SelfSignedKey  = "smtp-tls-key.sealed"
	keyPurpose     = "smtp-tls-key"
)

// Sealer seals and opens secrets (secret.Box).
type Sealer interface {
	Seal(purpose string, plaintext []byte) []byte
	Open(purpose string, sealed []byte) ([]byte, error)
}

// LoadTLS returns the TLS configuration of the SMTP listeners: the
// configured certificate and key files, or else a self-signed certificate
// for hostname kept in dataDir (made on first use; files mode 0600, the
// key sealed by box). Clients that verify certificates need a configured
// one; a self-signed certificate still encrypts, which is what STARTTLS
// between MTAs mostly relies on.
func LoadTLS(certFile, keyFile, dataDir, hostname string, box Sealer) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if certFile != "" {
		if cert, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			return nil, fmt.Errorf("SMTP TLS certificate %s: %w", certFile, err)
		}
	} else if cert, err = selfSigned(dataDir, hostname, box); err != nil {
		return nil, fmt.Errorf("self-signed SMTP certificate in %s: %w", dataDir, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned loads the data dir's self-signed certificate, making it
// first if there is none.
func selfSigned(dataDir, hostname string, box Sealer) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dataDir, SelfSignedCert), filepath.Join(dataDir, SelfSignedKey)
	if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
		if err := writeSelfSigned(certFile, keyFile, hostname, box); err != nil {
			return tls.Certificate{}, err
		}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	sealed, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := box.Open(keyPurpose, sealed)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w (was it made with another secret?)", keyFile, err)
	}
	return tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

func writeSelfSigned(certFile, keyFile, hostname string, box Sealer) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hostname, Organization: []string{"Salvo (self-signed)"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{hostname, "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, box.Seal(keyPurpose, keyDER)); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writeFile writes a 0600 file through a temporary file and a rename, so
// a crash never leaves half a file. The certificate is written last: its
// presence says both files are there.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
