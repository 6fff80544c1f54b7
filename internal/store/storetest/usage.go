package storetest

import (
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

// testUsage: PutUsage writes absolute totals (a repeat replaces, never
// adds), Usage lists one month by domain, and PutUsage with the same rows
// twice is idempotent.
func testUsage(t *testing.T, g store.Global) {
	rows := []store.Usage{
		{Domain: "b.example.com", Month: "2026-11", AccountID: acctID, Region: "eu", Accepted: 3, Delivered: 2, Failed: 1, UpdatedAt: at(10)},
		{Domain: "a.example.com", Month: "2026-11", AccountID: acctID, Region: "us", Accepted: 7, Delivered: 7, UpdatedAt: at(10)},
		{Domain: "a.example.com", Month: "2026-10", AccountID: acctID, Region: "us", Accepted: 1, UpdatedAt: at(5)},
	}
	mustOK(t, g.PutUsage(ctx, rows), "PutUsage")
	mustOK(t, g.PutUsage(ctx, rows), "PutUsage again")
	got, err := g.Usage(ctx, "2026-11")
	mustOK(t, err, "Usage")
	mustEqual(t, "November usage", []store.Usage{rows[1], rows[0]}, got)

	later := rows[1]
	later.Accepted, later.Delivered, later.UpdatedAt = 9, 8, at(20)
	mustOK(t, g.PutUsage(ctx, []store.Usage{later}), "PutUsage newer totals")
	got, err = g.Usage(ctx, "2026-11")
	mustOK(t, err, "Usage")
	mustEqual(t, "November usage after a new report", []store.Usage{later, rows[0]}, got)

	none, err := g.Usage(ctx, "2020-01")
	mustOK(t, err, "Usage of an empty month")
	if len(none) != 0 {
		t.Fatalf("empty month: %v", none)
	}
}
