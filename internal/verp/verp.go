// Package verp makes and checks per-recipient bounce addresses (variable
// envelope return paths): the MAIL FROM of every copy Salvo sends, so that
// a bounce or complaint mailed back to it names the message and the
// recipient it concerns, whatever the report itself claims.
//
// An address is bounce+<token>@<sending-domain>. The token is lower-case
// base32 (RFC 4648 §6, no padding: case-insensitive, as some MTAs change
// the case of local parts) of 32 bytes:
//
//	message key (20) | recipient hash (5) | MAC (7)
//
// The recipient hash is an HMAC of the key and the lower-cased recipient,
// so the token names one recipient without carrying its address; the MAC
// covers the sending domain and the first 25 bytes, so an address cannot
// be forged, altered or moved to another domain. Both use a key derived
// from the deployment's secret, the same on every node. The local part is
// 7 + 52 = 59 octets, within RFC 5321 §4.5.3.1.1's 64.
//
// Failure rules: Address returns "" for a message key it cannot encode
// (the caller then uses the message's plain sender); Parse reports false
// for anything that is not a token this deployment made for that domain.
package verp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// KeyPurpose names the signer's key among the keys derived from the
// deployment's secret (secret.Box.Derive).
const KeyPurpose = "verp-v1"

// Prefix starts the local part of every bounce address.
const Prefix = "bounce+"

const (
	keyLen  = 20
	hashLen = 5
	macLen  = 7
	rawLen  = keyLen + hashLen + macLen
)

var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Signer makes and checks bounce addresses with one key.
type Signer struct {
	key []byte
}

// New returns a signer using key (secret.Box.Derive(KeyPurpose)).
func New(key []byte) *Signer { return &Signer{key: append([]byte(nil), key...)} }

// Address is the bounce address of the copy of message key sent to rcpt
// from domain, or "" when key is not a message key this package encodes
// (27 characters of base64url).
func (s *Signer) Address(key, domain, rcpt string) string {
	kb, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(kb) != keyLen {
		return ""
	}
	raw := make([]byte, 0, rawLen)
	raw = append(raw, kb...)
	raw = append(raw, s.rcptHash(key, rcpt)...)
	raw = append(raw, s.mac(domain, raw)...)
	return Prefix + enc.EncodeToString(raw) + "@" + strings.ToLower(domain)
}

// Token is what a verified bounce address names.
type Token struct {
	Key    string // the message's storage key
	Domain string // the sending domain, lower case
	hash   []byte
}

// Names reports whether t was made for rcpt.
func (s *Signer) Names(t Token, rcpt string) bool {
	return subtle.ConstantTimeCompare(t.hash, s.rcptHash(t.Key, rcpt)) == 1
}

// IsCandidate reports whether addr has the shape of a bounce address (its
// local part starts with the prefix), verified or not.
func IsCandidate(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > len(Prefix) && strings.EqualFold(addr[:len(Prefix)], Prefix)
}

// Parse verifies a bounce address and returns its token.
func (s *Signer) Parse(addr string) (Token, bool) {
	if !IsCandidate(addr) {
		return Token{}, false
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := strings.ToLower(addr[len(Prefix):at]), strings.ToLower(addr[at+1:])
	if len(local) != enc.EncodedLen(rawLen) || domain == "" {
		return Token{}, false
	}
	raw, err := enc.DecodeString(local)
	if err != nil || len(raw) != rawLen {
		return Token{}, false
	}
	body := raw[:keyLen+hashLen]
	if subtle.ConstantTimeCompare(raw[keyLen+hashLen:], s.mac(domain, body)) != 1 {
		return Token{}, false
	}
	return Token{Key: base64.RawURLEncoding.EncodeToString(raw[:keyLen]), Domain: domain,
		hash: append([]byte(nil), raw[keyLen:keyLen+hashLen]...)}, true
}

func (s *Signer) rcptHash(key, rcpt string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("rcpt\x00"))
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(rcpt)))
	return m.Sum(nil)[:hashLen]
}

func (s *Signer) mac(domain string, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("addr\x00"))
	m.Write([]byte(strings.ToLower(domain)))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:macLen]
}
