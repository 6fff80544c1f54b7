package storetest

import (
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

var ipPoolTests = []regionalTest{
	{"RoundTrip", testIPPoolRoundTrip},
	{"UpdateDelete", testIPPoolUpdateDelete},
}

func testIPPoolRoundTrip(t *testing.T, r store.Regional) {
	p := store.IPPool{ID: "pool-b", Name: "bulk", Description: "newsletters", IPs: []string{"127.0.0.2", "::1"}, CreatedAt: at(1)}
	requireAllSet(t, p)
	mustOK(t, r.CreateIPPool(ctx, p), "CreateIPPool")
	mustIs(t, r.CreateIPPool(ctx, p), store.ErrConflict, "CreateIPPool again")
	empty := store.IPPool{ID: "pool-a", Name: "alerts", CreatedAt: at(2)}
	mustOK(t, r.CreateIPPool(ctx, empty), "CreateIPPool empty")
	got, err := r.IPPool(ctx, "pool-b")
	mustOK(t, err, "IPPool")
	mustEqual(t, "IPPool", p, got)
	_, err = r.IPPool(ctx, "nope")
	mustIs(t, err, store.ErrNotFound, "IPPool unknown")
	all, err := r.IPPools(ctx)
	mustOK(t, err, "IPPools")
	mustEqual(t, "IPPools (by name)", []store.IPPool{empty, p}, all)
}

func testIPPoolUpdateDelete(t *testing.T, r store.Regional) {
	p := store.IPPool{ID: "pool-1", Name: "one", Description: "d", IPs: []string{"127.0.0.2"}, CreatedAt: at(1)}
	mustOK(t, r.CreateIPPool(ctx, p), "CreateIPPool")
	p.Name, p.Description, p.IPs = "uno", "", []string{"127.0.0.3", "127.0.0.2"}
	mustOK(t, r.UpdateIPPool(ctx, p), "UpdateIPPool")
	got, err := r.IPPool(ctx, "pool-1")
	mustOK(t, err, "IPPool")
	mustEqual(t, "IPPool after update", p, got)
	mustIs(t, r.UpdateIPPool(ctx, store.IPPool{ID: "nope"}), store.ErrNotFound, "UpdateIPPool unknown")
	mustOK(t, r.DeleteIPPool(ctx, "pool-1"), "DeleteIPPool")
	mustIs(t, r.DeleteIPPool(ctx, "pool-1"), store.ErrNotFound, "DeleteIPPool again")
	_, err = r.IPPool(ctx, "pool-1")
	mustIs(t, err, store.ErrNotFound, "IPPool deleted")
}
