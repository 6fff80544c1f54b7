package mail

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewMessageID(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^\d{14}\.[0-9a-f]{16}@example\.com$`)
	base := time.Date(2026, 11, 27, 21, 34, 4, 0, time.FixedZone("x", 3600))
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		// Steps of 700 µs cross second boundaries too.
		id := NewMessageID("example.com", base.Add(time.Duration(i)*700*time.Microsecond))
		if !shape.MatchString(id) {
			t.Fatalf("id %q is not shaped like Mailgun's", id)
		}
		if i == 0 && id[:14] != "20261127203404" {
			t.Fatalf("id %q: the time part is not UTC", id)
		}
		if id <= prev {
			t.Fatalf("ids out of time order: %q after %q", id, prev)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id], prev = true, id
	}
	// Two IDs of one microsecond differ (44 random bits).
	at := base.Add(123456 * time.Microsecond)
	a, b := NewMessageID("example.com", at), NewMessageID("example.com", at)
	if a == b {
		t.Fatalf("two ids of one instant are equal: %q", a)
	}
	if a[15:20] != "1e240" || b[15:20] != "1e240" { // 123456 µs
		t.Fatalf("ids %q, %q do not start with the microsecond", a, b)
	}
}

// TestRewriteKeepsHeaderOneLine: a substituted value with a line break (a
// list member's variable, say) cannot add or break header fields.
func TestRewriteKeepsHeaderOneLine(t *testing.T) {
	t.Parallel()
	raw := []byte("From: a@b.example\r\nSubject: Hello %recipient.name%\r\n\r\nbody\r\n")
	out, err := Rewrite(raw, Rewriting{Replace: func(s string) string {
		return strings.ReplaceAll(s, "%recipient.name%", "Ann\r\nBcc: evil@else.example")
	}})
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(out), "\r\n\r\n")
	if strings.Contains(strings.ToLower(head), "\r\nbcc:") || !strings.Contains(head, "Subject: Hello Ann Bcc: evil@else.example") {
		t.Fatalf("header after rewrite:\n%s", head)
	}
}
