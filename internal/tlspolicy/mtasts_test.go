package tlspolicy

import (
	"strings"
	"testing"
	"time"
)

// TestParsePolicy: RFC 8461 §3.2 bodies, CRLF or LF, unknown keys
// ignored; missing or bad required fields refused.
func TestParsePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		mode       string
		mx         []string
		maxAge     time.Duration
		err        string
	}{
		{name: "rfc example", body: "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
			mode: "enforce", mx: []string{"mail.example.com", "*.example.net", "backupmx.example.com"}, maxAge: 604800 * time.Second},
		{name: "lf, spaces, unknown key, trailing dot", body: "version:STSv1\nmode:   testing  \nfoo: bar\nmx: MX.Example.COM.\nmax_age: 0",
			mode: "testing", mx: []string{"mx.example.com"}},
		{name: "none needs no mx", body: "version: STSv1\nmode: none\nmax_age: 86400\n", mode: "none", maxAge: 86400 * time.Second},
		{name: "no version", body: "mode: enforce\nmx: a.example\nmax_age: 1\n", err: "no version"},
		{name: "bad version", body: "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", err: "version"},
		{name: "bad mode", body: "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", err: "unknown mode"},
		{name: "no mode", body: "version: STSv1\nmx: a.example\nmax_age: 1\n", err: "no mode"},
		{name: "no mx", body: "version: STSv1\nmode: enforce\nmax_age: 1\n", err: "no mx"},
		{name: "no max_age", body: "version: STSv1\nmode: enforce\nmx: a.example\n", err: "no max_age"},
		{name: "max_age too large", body: "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", err: "max_age"},
		{name: "max_age negative", body: "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", err: "max_age"},
		{name: "not key value", body: "version: STSv1\nmode enforce\n", err: "not key: value"},
		{name: "html", body: "<html><body>hello</body></html>", err: "not key: value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePolicy([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one about %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Mode != tc.mode || strings.Join(p.MX, ",") != strings.Join(tc.mx, ",") || p.MaxAge != tc.maxAge {
				t.Fatalf("got %+v, want mode %s mx %v max_age %s", p, tc.mode, tc.mx, tc.maxAge)
			}
		})
	}
}

// TestPolicyMatches: RFC 8461 §4.1 patterns; a wildcard stands for
// exactly one leftmost label.
func TestPolicyMatches(t *testing.T) {
	t.Parallel()
	p := Policy{MX: []string{"mail.example.com", "*.example.net"}}
	for host, want := range map[string]bool{
		"mail.example.com": true, "MAIL.Example.com.": true, "mx.example.com": false, "example.com": false,
		"mx1.example.net": true, "a.b.example.net": false, "example.net": false, ".example.net": false,
		"mail.example.com.evil.test": false,
	} {
		if got := p.Matches(host); got != want {
			t.Errorf("Matches(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestPickRecord: RFC 8461 §3.1 records; anything but exactly one
// v=STSv1 record, or a bad one, is no MTA-STS.
func TestPickRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		txts []string
		id   string
	}{
		{"plain", []string{"v=STSv1; id=20160831085700Z;"}, "20160831085700Z"},
		{"no trailing semicolon, spaces, extension", []string{"v=STSv1 ;  id = abc123 ; ext=1"}, "abc123"},
		{"others discarded", []string{"v=spf1 -all", "v=STSv1; id=x1"}, "x1"},
		{"two records", []string{"v=STSv1; id=a", "v=STSv1; id=b"}, ""},
		{"none", []string{"v=spf1 -all"}, ""},
		{"no id", []string{"v=STSv1;"}, ""},
		{"bad id", []string{"v=STSv1; id=a-b"}, ""},
		{"id too long", []string{"v=STSv1; id=" + strings.Repeat("a", 33)}, ""},
		{"v not first", []string{"id=a; v=STSv1"}, ""},
	}
	for _, tc := range tests {
		id, err := pickRecord(tc.txts)
		if id != tc.id || (err == nil) != (tc.id != "") {
			t.Errorf("%s: pickRecord(%q) = %q, %v; want %q", tc.name, tc.txts, id, err, tc.id)
		}
	}
}

// FuzzParsePolicy: no body panics the parser, and what it accepts is a
// policy the rest of the package can use.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmax_age: 604800\r\n"))
	f.Add([]byte("version: STSv1\nmode: none\nmax_age: 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		if p.Mode != ModeEnforce && p.Mode != ModeTesting && p.Mode != ModeNone || p.MaxAge < 0 || p.MaxAge > maxMaxAge*time.Second {
			t.Fatalf("accepted %+v", p)
		}
		p.Matches("mx.example.net")
	})
}
