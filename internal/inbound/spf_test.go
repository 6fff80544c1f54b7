package inbound

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/dns"
)

// fakeDNS answers from maps; names absent are "no records", names in
// broken fail the lookup.
type fakeDNS struct {
	txt    map[string][]string
	ips    map[string][]string
	mx     map[string][]string
	broken map[string]bool
	asked  []string
}

func (f *fakeDNS) lookup(name string) error {
	f.asked = append(f.asked, name)
	if f.broken[name] {
		return errors.New("SERVFAIL")
	}
	return nil
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if err := f.lookup(name); err != nil {
		return nil, err
	}
	if v, ok := f.txt[name]; ok {
		return v, nil
	}
	return nil, dns.ErrNoRecords
}

func (f *fakeDNS) LookupIP(_ context.Context, name string) ([]net.IP, error) {
	if err := f.lookup(name); err != nil {
		return nil, err
	}
	var out []net.IP
	for _, s := range f.ips[name] {
		out = append(out, net.ParseIP(s))
	}
	if len(out) == 0 {
		return nil, dns.ErrNoRecords
	}
	return out, nil
}

func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if err := f.lookup(name); err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, h := range f.mx[name] {
		out = append(out, &net.MX{Host: h + ".", Pref: 10})
	}
	if len(out) == 0 {
		return nil, dns.ErrNoRecords
	}
	return out, nil
}

func (f *fakeDNS) LookupCNAME(context.Context, string) (string, error) { return "", dns.ErrNoRecords }

// TestSPF is a table of RFC 7208 cases.
func TestSPF(t *testing.T) {
	t.Parallel()
	base := func() *fakeDNS {
		return &fakeDNS{
			txt: map[string][]string{
				"pass.test":      {"v=spf1 ip4:192.0.2.0/24 -all"},
				"fail.test":      {"v=spf1 ip4:198.51.100.1 -all"},
				"soft.test":      {"v=spf1 ~all"},
				"neutral.test":   {"v=spf1 ?all"},
				"noall.test":     {"v=spf1 ip4:198.51.100.1"},
				"two.test":       {"v=spf1 -all", "v=spf1 +all"},
				"other.test":     {"google-site-verification=x"},
				"inc.test":       {"v=spf1 include:pass.test -all"},
				"incnone.test":   {"v=spf1 include:nothing.test -all"},
				"redir.test":     {"v=spf1 redirect=pass.test"},
				"a.test":         {"v=spf1 a -all"},
				"acidr.test":     {"v=spf1 a:host.test/24 -all"},
				"mx.test":        {"v=spf1 mx -all"},
				"v6.test":        {"v=spf1 ip6:2001:db8::/32 -all"},
				"exists.test":    {"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"},
				"broken.test":    {"v=spf1 include:dead.test -all"},
				"loop.test":      {"v=spf1 include:loop.test -all"},
				"bad.test":       {"v=spf1 foo:bar -all"},
				"ptr.test":       {"v=spf1 ptr -all"},
				"helo.test":      {"v=spf1 ip4:192.0.2.10 -all"},
				"many.test":      {"v=spf1 " + strings.Repeat("a:none.test ", 11) + "-all"},
				"voids.test":     {"v=spf1 a:v1.test a:v2.test a:v3.test -all"},
				"macro-h.test":   {"v=spf1 exists:%{h}.allow.test -all"},
				"upper.test":     {"V=SPF1 IP4:192.0.2.10 -ALL"},
				"cidrbad.test":   {"v=spf1 ip4:192.0.2.0/33 -all"},
				"redirnone.test": {"v=spf1 redirect=nothing.test"},
			},
			ips: map[string][]string{
				"a.test": {"192.0.2.10"}, "host.test": {"192.0.2.200"}, "mail.mx.test": {"192.0.2.10"},
				"10.2.0.192.x._spf.exists.test": {"127.0.0.2"},
				"helo.example.allow.test":       {"127.0.0.2"},
			},
			mx:     map[string][]string{"mx.test": {"mail.mx.test"}},
			broken: map[string]bool{"dead.test": true},
		}
	}
	ip := net.ParseIP("192.0.2.10")
	for _, tc := range []struct {
		sender, helo string
		ip           net.IP
		want         string
	}{
		{"a@pass.test", "h", ip, SPFPass},
		{"a@fail.test", "h", ip, SPFFail},
		{"a@soft.test", "h", ip, SPFSoftFail},
		{"a@neutral.test", "h", ip, SPFNeutral},
		{"a@noall.test", "h", ip, SPFNeutral},
		{"a@nothing.test", "h", ip, SPFNone},
		{"a@other.test", "h", ip, SPFNone},
		{"a@two.test", "h", ip, SPFPermError},
		{"a@inc.test", "h", ip, SPFPass},
		{"a@incnone.test", "h", ip, SPFPermError},
		{"a@redir.test", "h", ip, SPFPass},
		{"a@redirnone.test", "h", ip, SPFPermError},
		{"a@a.test", "h", ip, SPFPass},
		{"a@acidr.test", "h", ip, SPFPass},
		{"a@mx.test", "h", ip, SPFPass},
		{"a@v6.test", "h", net.ParseIP("2001:db8::1"), SPFPass},
		{"a@v6.test", "h", ip, SPFFail},
		{"x-y@exists.test", "h", ip, SPFPass},
		{"a@broken.test", "h", ip, SPFTempError},
		{"a@loop.test", "h", ip, SPFPermError},
		{"a@bad.test", "h", ip, SPFPermError},
		{"a@ptr.test", "h", ip, SPFFail},
		{"", "helo.test", ip, SPFPass},
		{"a@many.test", "h", ip, SPFPermError},
		{"a@voids.test", "h", ip, SPFPermError},
		{"a@macro-h.test", "helo.example", ip, SPFPass},
		{"a@upper.test", "h", ip, SPFPass},
		{"a@cidrbad.test", "h", ip, SPFPermError},
	} {
		got := checkSPF(context.Background(), base(), tc.ip, tc.helo, tc.sender)
		if got != tc.want {
			t.Errorf("checkSPF(%s, helo %s, %s) = %s, want %s", tc.sender, tc.helo, tc.ip, got, tc.want)
		}
	}
}
