package submission

import (
	"testing"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// FuzzReadMailgunHeaders: X-Mailgun-* headers come from any SMTP client
// and any messages.mime upload. Reading them never panics, and every
// refusal is a client error (a 4xx *fault.Error), never an internal one.
func FuzzReadMailgunHeaders(f *testing.F) {
	for _, s := range []string{
		"From: a@b.example\r\nX-Mailgun-Tag: t1\r\nX-Mailgun-Tag: t2\r\n\r\nbody",
		"X-Mailgun-Variables: {\"a\": 1}\r\nX-Mailgun-Recipient-Variables: {\"x@y.example\": {\"n\": 1}}\r\n\r\n",
		"X-Mailgun-Variables: =?UTF-8?Q?=7B=22src=22=3A=22smtp=22=7D?=\r\n\r\n",
		"X-Mailgun-Deliver-By: Tue, 01 Dec 2026 10:00:00 +0000\r\nX-Mailgun-Track: yes\r\nX-Mailgun-Dkim: no\r\n\r\n",
		"Content-Type: multipart/mailgun-variables; boundary=B\r\n\r\n--B\r\nContent-Type: application/json\r\n\r\n{\"v\":1}\r\n--B\r\n\r\nFrom: a@b.example\r\n\r\nhi\r\n--B--",
		"X-Mailgun-Template-Name: t\r\nX-Mailgun-Template-Version: v\r\n\r\n",
		"X-Mailgun-Variables: =?KOI8-R?B?AAAA?=\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	d := store.Domain{Name: "b.example"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, err := ReadMailgunHeaders(raw, d)
		if err != nil && !fault.KindOf(err).Client() {
			t.Fatalf("ReadMailgunHeaders(%q): %v is not a client error", raw, err)
		}
	})
}
