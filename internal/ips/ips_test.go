package ips_test

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/salvo-email/salvo/internal/ips"
)

func TestParse(t *testing.T) {
	t.Parallel()
	got, err := ips.Parse(" 127.0.0.2=mta2.example.com, ,::ffff:127.0.0.3, 2001:db8::1=mta6.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := []ips.Source{
		{Addr: netip.MustParseAddr("127.0.0.2"), EHLO: "mta2.example.com"},
		{Addr: netip.MustParseAddr("127.0.0.3")}, // IPv4-mapped form unmapped
		{Addr: netip.MustParseAddr("2001:db8::1"), EHLO: "mta6.example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %+v, want %+v", got, want)
	}
	if l, err := ips.Parse(""); err != nil || len(l) != 0 {
		t.Fatalf(`Parse("") = %v, %v; want none (the kernel's choice)`, l, err)
	}
	for _, bad := range []string{"mail.example.com", "127.0.0.2=", "127.0.0.2=a b", "fe80::1%eth0", "127.0.0.2,127.0.0.2"} {
		if _, err := ips.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestSetPick(t *testing.T) {
	t.Parallel()
	list, _ := ips.Parse("127.0.0.2,127.0.0.3=b.example.com,127.0.0.4")
	s := ips.NewSet(list, "node.example.com")
	if src, ok := s.Lookup("::ffff:127.0.0.2"); !ok || src.EHLO != "node.example.com" {
		t.Fatalf("Lookup of a mapped form = %+v, %v; want the source with the host name as EHLO name", src, ok)
	}
	if _, ok := s.Lookup("192.0.2.1"); ok {
		t.Fatal("Lookup found an address that is not a source")
	}
	cands := s.Candidates([]string{"127.0.0.3", "192.0.2.1", "127.0.0.4"})
	if len(cands) != 2 || cands[0].EHLO != "b.example.com" {
		t.Fatalf("Candidates = %+v, want 127.0.0.3 and 127.0.0.4 only", cands)
	}
	// Rotation alternates; an open session's address is kept.
	seen := map[string]int{}
	for range 4 {
		seen[s.Pick(cands, ips.Source{}).Addr.String()]++
	}
	if seen["127.0.0.3"] != 2 || seen["127.0.0.4"] != 2 {
		t.Fatalf("rotation over two addresses = %v, want 2 each", seen)
	}
	for range 3 {
		if got := s.Pick(cands, cands[1]); got != cands[1] {
			t.Fatalf("Pick with a session from %v chose %v", cands[1].Addr, got.Addr)
		}
	}
	if got := s.Pick(nil, cands[0]); !got.IsZero() {
		t.Fatalf("Pick without candidates = %v, want the zero Source", got)
	}
	var empty *ips.Set
	if empty.Len() != 0 || empty.List() != nil || !empty.Pick(empty.Candidates([]string{"127.0.0.2"}), ips.Source{}).IsZero() {
		t.Fatal("a nil Set must be empty")
	}
}

func TestCheckLocal(t *testing.T) {
	t.Parallel()
	local, _ := ips.Parse("127.0.0.2,127.0.0.3")
	if err := ips.CheckLocal(local); err != nil {
		t.Fatalf("CheckLocal(127.0.0.2, 127.0.0.3) = %v; all of 127/8 is local", err)
	}
	foreign, _ := ips.Parse("127.0.0.2,192.0.2.1")
	if err := ips.CheckLocal(foreign); err == nil {
		t.Fatal("CheckLocal accepted 192.0.2.1 (TEST-NET-1), which this machine does not have")
	}
}
