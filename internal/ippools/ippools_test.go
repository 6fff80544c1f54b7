package ippools_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ippools"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/store/sqlite"
)

func service(t *testing.T) *ippools.Service {
	t.Helper()
	r, err := sqlite.OpenRegional(context.Background(), filepath.Join(t.TempDir(), "regional.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	set := ips.NewSet([]ips.Source{{Addr: netip.MustParseAddr("127.0.0.2")}, {Addr: netip.MustParseAddr("127.0.0.3"), EHLO: "mta3.test"}}, "node.test")
	return &ippools.Service{Store: r, Sources: set, Now: time.Now}
}

func addDomain(t *testing.T, s *ippools.Service, name, ipList, pool string) {
	t.Helper()
	d := store.Domain{ID: name, Name: name, State: "active", Type: "custom", SpamAction: "disabled",
		IPs: ipList, PoolID: pool, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.Store.CreateDomain(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
}

// msgOf is the message a client reads.
func msgOf(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Message
	}
	return ""
}

func kindOf(err error) fault.Kind {
	if f, ok := fault.As(err); ok {
		return f.Kind
	}
	return -1
}

// TestOurIPs: only the node's sources, canonical, each once, with the
// API's messages.
func TestOurIPs(t *testing.T) {
	t.Parallel()
	s := service(t)
	got, err := s.OurIPs([]string{"::ffff:127.0.0.3, 127.0.0.2", "127.0.0.3"})
	if err != nil || strings.Join(got, ",") != "127.0.0.3,127.0.0.2" {
		t.Fatalf("OurIPs = %q, %v", got, err)
	}
	if _, err := s.OurIPs([]string{"127.0.0.2,10.9.9.9"}); err == nil || kindOf(err) != fault.Invalid ||
		msgOf(err) != "IP 10.9.9.9 is not one of this server's source addresses (--source-ips)" {
		t.Errorf("a foreign address: %v", err)
	}
	if _, err := s.OurIP(" "); err == nil || msgOf(err) != "Parameter 'ip' is missing" {
		t.Errorf("no address: %v", err)
	}
}

// TestDeleteMovesLinkedDomains: the domains of a deleted pool move to the
// replacement given; a bad replacement changes nothing.
func TestDeleteMovesLinkedDomains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := service(t)
	a, err := s.Create(ctx, "A", "", []string{"127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, "B", "", []string{"127.0.0.3"})
	if err != nil {
		t.Fatal(err)
	}
	addDomain(t, s, "one.example.com", "", a.ID)
	addDomain(t, s, "two.example.com", "127.0.0.2", a.ID)
	addDomain(t, s, "three.example.com", "", b.ID)

	if _, err := s.Delete(ctx, a.ID, "no-such-pool", ""); kindOf(err) != fault.Invalid || msgOf(err) != "IP pool no-such-pool not found" {
		t.Fatalf("unknown replacement pool: %v", err)
	}
	if _, err := s.Delete(ctx, a.ID, "", "10.1.1.1"); kindOf(err) != fault.Invalid {
		t.Fatalf("foreign replacement address: %v", err)
	}
	if ds, _ := s.Linked(ctx, a.ID); len(ds) != 2 {
		t.Fatalf("refused deletes changed the links: %d linked", len(ds))
	}
	moved, err := s.Delete(ctx, a.ID, "", "127.0.0.3")
	if err != nil || len(moved) != 2 {
		t.Fatalf("delete: %d moved, %v", len(moved), err)
	}
	for name, want := range map[string]string{"one.example.com": "127.0.0.3", "two.example.com": "127.0.0.2,127.0.0.3"} {
		d, err := s.Store.Domain(ctx, name)
		if err != nil || d.PoolID != "" || d.IPs != want {
			t.Errorf("%s after the delete: pool %q ips %q, %v", name, d.PoolID, d.IPs, err)
		}
	}
	if d, _ := s.Store.Domain(ctx, "three.example.com"); d.PoolID != b.ID {
		t.Errorf("a domain of another pool moved: %q", d.PoolID)
	}
	if _, err := s.Pool(ctx, a.ID); kindOf(err) != fault.NotFound || msgOf(err) != "IP pool not found" {
		t.Errorf("deleted pool: %v", err)
	}
	if _, err := s.Delete(ctx, a.ID, "", ""); kindOf(err) != fault.NotFound {
		t.Errorf("deleting it again: %v", err)
	}
}

// TestUpdate: name, addresses replaced, added and removed; a strict
// remove of an address the pool lacks is a 404; an empty name refused.
func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := service(t)
	p, err := s.Create(ctx, " P ", "d", nil)
	if err != nil || p.Name != "P" {
		t.Fatalf("create: %+v, %v", p, err)
	}
	if _, err := s.Create(ctx, "  ", "", nil); kindOf(err) != fault.Invalid {
		t.Errorf("a pool without a name: %v", err)
	}
	name := "Q"
	if err := s.Update(ctx, p.ID, ippools.Edit{Name: &name, IPs: []string{"127.0.0.3"}, Add: []string{"127.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Pool(ctx, p.ID)
	if got.Name != "Q" || got.Description != "d" || strings.Join(got.IPs, ",") != "127.0.0.3,127.0.0.2" {
		t.Fatalf("after update: %+v", got)
	}
	if err := s.Update(ctx, p.ID, ippools.Edit{Remove: []string{"127.0.0.3"}, StrictRemove: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, p.ID, ippools.Edit{Remove: []string{"127.0.0.3"}, StrictRemove: true}); kindOf(err) != fault.NotFound || msgOf(err) != "IP not found in pool" {
		t.Errorf("strict remove of a missing address: %v", err)
	}
	empty := ""
	if err := s.Update(ctx, p.ID, ippools.Edit{Name: &empty}); kindOf(err) != fault.Invalid {
		t.Errorf("an empty name: %v", err)
	}
	if err := s.Update(ctx, p.ID, ippools.Edit{Add: []string{"192.0.2.1"}}); kindOf(err) != fault.Invalid {
		t.Errorf("a foreign address: %v", err)
	}
	got, _ = s.Pool(ctx, p.ID)
	if got.Name != "Q" || strings.Join(got.IPs, ",") != "127.0.0.2" {
		t.Errorf("refused updates changed the pool: %+v", got)
	}
}
