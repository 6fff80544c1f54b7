package egress

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	p, err := New(DefaultDeny+",203.0.113.0/24", "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	p.DenyOwn("127.0.0.1:8080")
	p.DenyOwn(":2525")
	p.DenyOwn("[::]:2587")
	cases := []struct {
		addr string
		ok   bool
	}{
		{"169.254.169.254:80", false},      // cloud metadata
		{"[fe80::1]:80", false},            // link-local v6
		{"203.0.113.9:443", false},         // operator's deny
		{"203.0.113.7:443", true},          // operator's allow wins
		{"127.0.0.1:8080", false},          // own HTTP listener
		{"127.0.0.1:8081", true},           // another local service: allowed
		{"127.0.0.2:2525", false},          // own MX on every address
		{"[::1]:2587", false},              // own relay on every address
		{"10.1.2.3:2525", true},            // same port on a host that is not this one
		{"192.168.1.10:443", true},         // private network: allowed
		{"[::ffff:169.254.1.1]:80", false}, // mapped v4
	}
	for _, c := range cases {
		ap := netip.MustParseAddrPort(c.addr)
		err := p.Check(ap.Addr(), ap.Port())
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrDenied)) {
			t.Errorf("Check(%s) = %v, want allowed %v", c.addr, err, c.ok)
		}
		if err := p.Control("tcp", ap.String(), nil); (err == nil) != c.ok {
			t.Errorf("Control(%s) = %v", c.addr, err)
		}
	}
	for u, ok := range map[string]bool{
		"http://169.254.169.254/latest/meta-data": false,
		"http://127.0.0.1:8080/v3/domains":        false,
		"https://[fe80::1]/x":                     false,
		"https://hooks.example.com/x":             true, // names are checked when dialled
		"http://127.0.0.1:9999/hook":              true,
	} {
		if err := p.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%s) = %v, want allowed %v", u, err, ok)
		}
	}
	if _, err := New("10.0.0.0/33", ""); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}
