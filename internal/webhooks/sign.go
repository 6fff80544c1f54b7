package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Signature is the signature object of a webhook POST (docs/mailgun-contract.md §8.4); in form
// posts (route forwards) its fields are sent as timestamp, token, signature.
type Signature struct {
	Timestamp string `json:"timestamp"`
	Token     string `json:"token"`
	Signature string `json:"signature"`
}

// Sign makes a fresh signature at now with key.
func Sign(key []byte, now time.Time) Signature {
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	s := Signature{Timestamp: strconv.FormatInt(now.Unix(), 10), Token: hex.EncodeToString(b)}
	s.Signature = Compute(key, s.Timestamp, s.Token)
	return s
}

// Compute is the signature of timestamp and token under key.
func Compute(key []byte, timestamp, token string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature in constant time.
func Verify(key []byte, s Signature) bool {
	want := Compute(key, s.Timestamp, s.Token)
	return hmac.Equal([]byte(want), []byte(s.Signature))
}

// Schedule is the delay after each failed attempt of a webhook or route
// forward POST (docs/mailgun-contract.md §8.5, current documentation), and MaxAge how long
// retries go on. 406 Not Acceptable stops retries at once.
var Schedule = []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}

// MaxAge bounds retries (docs/mailgun-contract.md §8.5: about 8 hours).
const MaxAge = 8 * time.Hour
