package mail

import (
	"strings"
	"testing"
)

// FuzzPresent: whatever bytes the accept path stores (messages.mime takes
// them nearly as given), reading them back for the storage API, the
// dashboard and routes never fails and never panics.
func FuzzPresent(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n"))
	f.Add([]byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nunterminated"))
	f.Add([]byte("Subject: " + strings.Repeat("s", 2<<20) + "\r\n\r\nx"))
	f.Add([]byte("not a header at all\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@\r\n--x--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Present(raw)
		if err != nil || p == nil {
			t.Fatalf("Present(%q) = %v, %v", raw, p, err)
		}
	})
}
