package mgapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/salvo-email/salvo/internal/fault"
)

// FuzzParseParams: any query string, content type and body a client sends
// is read or refused with a client error (4xx), never a panic or a 5xx.
func FuzzParseParams(f *testing.F) {
	f.Add("limit=10&event=delivered", "application/x-www-form-urlencoded", []byte("to=a%40b.example&v%3Ax=1"))
	f.Add("", "multipart/form-data; boundary=B", []byte("--B\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\na@b.example\r\n--B--\r\n"))
	f.Add("", "application/json", []byte(`{"to": ["a@b.example"], "code": 550, "ok": true}`))
	f.Add("%zz", "application/json", []byte(`[1, 2]`))
	f.Add("", "multipart/form-data; boundary=B", []byte("--B\r\nunterminated"))
	f.Fuzz(func(t *testing.T, query, ctype string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v3/x/messages", bytes.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		_, err := ParseParams(r, 1<<20)
		if f, ok := fault.As(err); err != nil && (!ok || !f.Kind.Client()) {
			t.Fatalf("ParseParams(%q, %q, %q): %v is not a client error", query, ctype, body, err)
		}
	})
}

// FuzzParseDate: every date spelling is read or refused, never a panic.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"Tue, 01 Dec 2026 10:00:00 +0000", "1764583200", "1764583200.5", "2026-12-01T10:00:00Z", "", "Tue, 1 Dec 2026 10:00:00 GMT", "-1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseDate(s)
	})
}
