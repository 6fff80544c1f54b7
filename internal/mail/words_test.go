package mail

import (
	"strings"
	"testing"
)

// TestDecodeWords: nodemailer's Q and B encoded words, adjacent words
// joined (RFC 2047 §6.2), plain values untouched, unknown charsets named.
func TestDecodeWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=?UTF-8?Q?=7B=22src=22=3A=22smtp=22=7D?=": `{"src":"smtp"}`,
		"=?UTF-8?B?eyJhIjo=?= =?UTF-8?B?MX0=?=":    `{"a":1}`,
		`{"a":"=?not a word"}`:                     `{"a":"=?not a word"}`,
		"plain":                                    "plain",
		"=?iso-8859-1?Q?caf=E9?=":                  "café",
	} {
		if got, err := DecodeWords(in); err != nil || got != want {
			t.Errorf("DecodeWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := DecodeWords("=?x-klingon?Q?qapla?="); err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("unknown charset: %v, want an error naming it", err)
	}
}
