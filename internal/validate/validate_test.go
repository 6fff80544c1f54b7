package validate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/salvo-email/salvo/internal/dns"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/validate"
)

func TestParse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64)
	for _, c := range []struct {
		in, local, ascii string
		bad              string // part of the error, "" when valid
	}{
		{in: "john.doe@example.com", local: "john.doe", ascii: "example.com"},
		{in: "John.Doe+tag@Example.COM", local: "John.Doe+tag", ascii: "example.com"},
		{in: "o'brien!#$%&*/=?^_`{|}~-@example.org", local: "o'brien!#$%&*/=?^_`{|}~-", ascii: "example.org"},
		{in: `"john doe"@example.com`, local: `"john doe"`, ascii: "example.com"},
		{in: `"a\"b@c"@example.com`, local: `"a\"b@c"`, ascii: "example.com"},
		{in: "user@bücher.de", local: "user", ascii: "xn--bcher-kva.de"},
		{in: "用户@例子.测试", local: "用户", ascii: "xn--fsqu00a.xn--0zwm56d"},
		{in: "user@example.com.", local: "user", ascii: "example.com"},
		{in: long + "@example.com", local: long, ascii: "example.com"},
		{in: "", bad: "empty address"},
		{in: "plainaddress", bad: "no @"},
		{in: "@example.com", bad: "empty local part"},
		{in: "user@", bad: "empty domain"},
		{in: ".user@example.com", bad: "dot"},
		{in: "user.@example.com", bad: "dot"},
		{in: "us..er@example.com", bad: "dot"},
		{in: "us er@example.com", bad: "not allowed in an unquoted local part"},
		{in: "a(b)@example.com", bad: "not allowed"},
		{in: `"unterminated@example.com`, bad: "unterminated"},
		{in: `"a"b"@example.com`, bad: "unescaped quote"},
		{in: long + "a@example.com", bad: "longer than 64"},
		{in: "user@localhost", bad: "without a dot"},
		{in: "user@[192.0.2.1]", bad: "address literals"},
		{in: "user@-example.com", bad: "invalid label"},
		{in: "user@exa_mple.com", bad: "invalid domain"},
		{in: "user@example..com", bad: "empty label"},
		{in: "user@1.2.3.4", bad: "numeric top-level"},
		{in: "user@" + strings.Repeat("a", 64) + ".com", bad: "longer than 63"},
		{in: "a@" + strings.Repeat("abcdefghi.", 25) + "com", bad: "longer than 254"},
		{in: "bad\xffutf8@example.com", bad: "not UTF-8"},
	} {
		p, err := validate.Parse(c.in)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("Parse(%q): %v, want valid", c.in, err)
		case c.bad == "" && (p.Local != c.local || p.ASCII != c.ascii):
			t.Errorf("Parse(%q) = %q @ %q, want %q @ %q", c.in, p.Local, p.ASCII, c.local, c.ascii)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.in, err, c.bad)
		}
	}
}

func TestListsAndSuggestions(t *testing.T) {
	t.Parallel()
	d, err := validate.ShippedDisposable()
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() < 100_000 {
		t.Errorf("shipped list has %d entries, want the whole package (> 100,000)", d.Len())
	}
	for domain, want := range map[string]bool{
		"mailinator.com": true, "guerrillamail.com": true, "x.y.mailinator.com": true, // *.mailinator.com
		"gmail.com": false, "example.com": false, "notmailinator.org": false,
	} {
		if got := d.Has(domain); got != want {
			t.Errorf("disposable %s = %v, want %v", domain, got, want)
		}
	}
	for local, want := range map[string]bool{"postmaster": true, "Info": true, "admin+x": true, `"support"`: true,
		"john": false, "infoo": false} {
		if got := validate.IsRole(local); got != want {
			t.Errorf("IsRole(%q) = %v, want %v", local, got, want)
		}
	}
	for in, want := range map[string]string{"gmial.com": "gmail.com", "gmail.co": "gmail.com", "gmaill.com": "gmail.com",
		"hotmial.com": "hotmail.com", "yahooo.com": "yahoo.com", "gmail.com": "", "gmx.com": "", "example.com": "",
		"outlok.com": "outlook.com"} {
		if got := validate.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		domain string
		mx     []string
		want   string
	}{
		{"gmail.com", nil, "gmail"}, {"hotmail.fr", nil, "microsoft"}, {"ymail.com", nil, "yahoo"},
		{"corp.example", []string{"aspmx.l.google.com."}, "gmail"},
		{"corp.example", []string{"corp-example.mail.protection.outlook.com."}, "microsoft"},
		{"corp.example", []string{"mx.corp.example."}, ""},
	} {
		if got := validate.ProviderOf(c.domain, c.mx); got != c.want {
			t.Errorf("ProviderOf(%s, %v) = %q, want %q", c.domain, c.mx, got, c.want)
		}
	}
}

// TestCheckThroughDNS asks a real DNS server (miekg/dns on 127.0.0.1) for
// every case a verdict depends on.
func TestCheckThroughDNS(t *testing.T) {
	t.Parallel()
	srv := testutil.StartDNS(t)
	srv.Add(t,
		"mx.example. 60 IN MX 10 mx1.mx.example.",
		"gws.example. 60 IN MX 1 aspmx.l.google.com.",
		"aonly.example. 60 IN A 192.0.2.10",
		"nullmx.example. 60 IN MX 0 .",
		"xn--bcher-kva.example. 60 IN MX 10 mx.xn--bcher-kva.example.",
		"txtonly.example. 60 IN TXT \"v=spf1 -all\"",
	)
	srv.SetRcode("broken.example", mdns.RcodeServerFailure)
	d, err := validate.ShippedDisposable()
	if err != nil {
		t.Fatal(err)
	}
	v := &validate.Validator{Resolver: dns.New(srv.Addr), Disposable: d}
	if _, err := (&validate.Validator{Load: func() (*validate.Disposable, error) { return nil, errors.New("no list") }}).
		Check(context.Background(), "a@b.example", false); err == nil {
		t.Error("a list that does not load: no error")
	}
	for _, c := range []struct {
		addr           string
		lookup         bool
		result, risk   string
		reasons        []string
		role, disp     bool
		provider, mean string
	}{
		{addr: "alice@mx.example", lookup: true, result: "deliverable", risk: "low", reasons: []string{"no_smtp_mailbox_probe"}},
		{addr: "bob@gws.example", lookup: true, result: "deliverable", risk: "low", reasons: []string{"no_smtp_mailbox_probe"}, provider: "gmail"},
		{addr: "postmaster@mx.example", lookup: true, result: "deliverable", risk: "medium", role: true,
			reasons: []string{"mailbox_is_role_address", "no_smtp_mailbox_probe"}},
		{addr: "carol@aonly.example", lookup: true, result: "deliverable", risk: "medium",
			reasons: []string{"no_mx_implicit_a_record", "no_smtp_mailbox_probe"}},
		{addr: "dave@nullmx.example", lookup: true, result: "undeliverable", risk: "high", reasons: []string{"null_mx"}},
		{addr: "erin@nowhere.example", lookup: true, result: "undeliverable", risk: "high", reasons: []string{"no_mx_or_a_records"}},
		{addr: "erin@txtonly.example", lookup: true, result: "undeliverable", risk: "high", reasons: []string{"no_mx_or_a_records"}},
		{addr: "frank@broken.example", lookup: true, result: "unknown", risk: "unknown", reasons: []string{"dns_lookup_failed"}},
		{addr: "grace@bücher.example", lookup: true, result: "deliverable", risk: "low", reasons: []string{"no_smtp_mailbox_probe"}},
		{addr: "heidi@mailinator.com", lookup: true, result: "do_not_send", risk: "high", disp: true,
			reasons: []string{"mailbox_is_disposable_address"}},
		{addr: "ivan@mx.example", lookup: false, result: "unknown", risk: "unknown", reasons: []string{"provider_lookup_skipped"}},
		{addr: "judy@gmial.com", lookup: false, result: "unknown", risk: "unknown", reasons: []string{"provider_lookup_skipped"},
			mean: "judy@gmail.com"},
		{addr: "not an address", lookup: true, result: "undeliverable", risk: "high", reasons: []string{"invalid_syntax: no @"}},
	} {
		vd, err := v.Check(context.Background(), c.addr, c.lookup)
		if err != nil {
			t.Fatal(err)
		}
		if vd.Result != c.result || vd.Risk != c.risk || strings.Join(vd.Reasons, ",") != strings.Join(c.reasons, ",") ||
			vd.Role != c.role || vd.Disposable != c.disp || vd.Provider != c.provider || vd.DidYouMean != c.mean {
			t.Errorf("Check(%q, lookup=%v) = %s/%s %q role=%v disposable=%v provider=%q did_you_mean=%q; want %s/%s %q role=%v disposable=%v provider=%q did_you_mean=%q",
				c.addr, c.lookup, vd.Result, vd.Risk, vd.Reasons, vd.Role, vd.Disposable, vd.Provider, vd.DidYouMean,
				c.result, c.risk, c.reasons, c.role, c.disp, c.provider, c.mean)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a@b.c", `"x y"@example.com`, "user@bücher.de", "@", "a@[1.2.3.4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := validate.Parse(s)
		if err == nil && (p.Local == "" || !strings.Contains(p.ASCII, ".") || len(p.Local) > 64) {
			t.Errorf("Parse(%q) accepted %+v", s, p)
		}
	})
}

// BenchmarkCheckOffline is one address through syntax, lists and
// suggestions, without DNS (provider_lookup=false).
func BenchmarkCheckOffline(b *testing.B) {
	d, err := validate.ShippedDisposable()
	if err != nil {
		b.Fatal(err)
	}
	v := &validate.Validator{Disposable: d}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = v.Check(ctx, "Jane.Doe+news@gmial.com", false)
	}
}

// BenchmarkLoadDisposable is what a node pays once at start for the
// shipped list (time and bytes allocated).
func BenchmarkLoadDisposable(b *testing.B) {
	gz := validate.ShippedDisposableData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := validate.LoadDisposable(gz); err != nil {
			b.Fatal(err)
		}
	}
}
