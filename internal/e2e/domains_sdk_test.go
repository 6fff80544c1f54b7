package e2e

import (
	"context"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestDomainsThroughSDK drives the domain endpoints with mailgun-go v4.23.0
// against a real listener, on both store implementations.
func TestDomainsThroughSDK(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			dnsSrv := testutil.StartDNS(t)
			ta := testutil.StartApp(t, testutil.AppOptions{
				Postgres:  pg,
				Configure: func(c *config.Config) { c.DNS = dnsSrv.Addr },
			})
			ctx := context.Background()
			mg := mailgun.NewMailgun("mg.example.com", ta.Key)
			mg.SetAPIBase(ta.URL + "/v3")
			resp, err := mg.CreateDomain(ctx, "mg.example.com", &mailgun.CreateDomainOptions{
				Password: "supersecret", SpamAction: mailgun.SpamActionTag, Wildcard: true, WebScheme: "https",
			})
			if err != nil {
				t.Fatalf("CreateDomain: %v", err)
			}
			if resp.Domain.Name != "mg.example.com" || resp.Domain.State != "unverified" || resp.Domain.SpamAction != "tag" ||
				!resp.Domain.Wildcard || resp.Domain.WebScheme != "https" || resp.Domain.SMTPLogin != "postmaster@mg.example.com" {
				t.Fatalf("created domain = %+v", resp.Domain)
			}
			if resp.Domain.CreatedAt.IsZero() {
				t.Fatal("created_at did not decode")
			}
			if len(resp.SendingDNSRecords) != 3 || len(resp.ReceivingDNSRecords) != 2 {
				t.Fatalf("records: sending %d receiving %d", len(resp.SendingDNSRecords), len(resp.ReceivingDNSRecords))
			}
			if _, err := mg.CreateDomain(ctx, "mg.example.com", nil); mailgun.GetStatusFromErr(err) != 400 {
				t.Fatalf("duplicate create: %v", err)
			}

			it := mg.ListDomains(&mailgun.ListOptions{Limit: 10})
			var page []mailgun.Domain
			if !it.First(ctx, &page) || len(page) != 1 || page[0].Name != "mg.example.com" {
				t.Fatalf("ListDomains first page = %v, err %v", page, it.Err())
			}

			// Publish the records the API asks for, then verify.
			var dkimName, dkimValue string
			for _, r := range resp.SendingDNSRecords {
				if r.RecordType == "TXT" && r.Name != "mg.example.com" {
					dkimName, dkimValue = r.Name, r.Value
				}
			}
			dnsSrv.Add(t, `mg.example.com. 60 IN TXT "v=spf1 include:spf.salvo.localhost ~all"`,
				dkimName+`. 60 IN TXT "`+dkimValue+`"`)
			state, err := mg.VerifyDomain(ctx, "mg.example.com")
			if err != nil || state != "active" {
				t.Fatalf("VerifyDomain = %q, %v", state, err)
			}
			got, err := mg.GetDomain(ctx, "mg.example.com")
			if err != nil {
				t.Fatal(err)
			}
			valid := map[string]string{}
			for _, r := range append(got.SendingDNSRecords, got.ReceivingDNSRecords...) {
				valid[r.RecordType+" "+r.Name+" "+r.Value] = r.Valid
			}
			for rec, v := range valid {
				want := "invalid" // CNAME and MX were not published
				if rec[:3] == "TXT" {
					want = "valid"
				}
				if v != want {
					t.Errorf("%s valid = %q, want %q", rec, v, want)
				}
			}

			if err := mg.UpdateDomainConnection(ctx, "mg.example.com", mailgun.DomainConnection{RequireTLS: true}); err != nil {
				t.Fatal(err)
			}
			conn, err := mg.GetDomainConnection(ctx, "mg.example.com")
			if err != nil || !conn.RequireTLS || conn.SkipVerification {
				t.Fatalf("connection = %+v, %v", conn, err)
			}
			if err := mg.DeleteDomain(ctx, "mg.example.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := mg.GetDomain(ctx, "mg.example.com"); mailgun.GetStatusFromErr(err) != 404 {
				t.Fatalf("get after delete: %v", err)
			}
		})
	}
}
