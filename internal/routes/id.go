package routes

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a route id: 24 hex digits like Mailgun's ObjectIds,
// seconds then random bytes.
func NewID(now time.Time) string {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b, uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b)
}

// URLs are the URLs the action posts to: forward's URL destinations and
// store's notify URL (what the egress policy must allow).
func (a Action) URLs() []string {
	var out []string
	for _, d := range a.Dests {
		if IsURL(d) {
			out = append(out, d)
		}
	}
	if IsURL(a.Notify) {
		out = append(out, a.Notify)
	}
	return out
}
