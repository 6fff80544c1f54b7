package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestValidateEmailThroughSDK drives address validation with mailgun-go's
// ValidateEmail (base URL ending in /v4, as it requires) against a node
// whose resolver is a miekg/dns server, and the legacy v3 route and the
// tolerant inputs (POST form, provider_lookup) over plain HTTP.
func TestValidateEmailThroughSDK(t *testing.T) {
	t.Parallel()
	dnsSrv := testutil.StartDNS(t)
	dnsSrv.Add(t,
		"corp.example. 60 IN MX 10 aspmx.l.google.com.",
		"shop.example. 60 IN MX 10 mx.shop.example.",
		"nomail.example. 60 IN MX 0 .",
	)
	ta := testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) { c.DNS = dnsSrv.Addr }})
	ctx := context.Background()
	mg := mailgun.NewMailgun("unused.example.com", ta.Key)
	mg.SetAPIBase(ta.URL + "/v4")

	for _, c := range []struct {
		addr, result, risk, reasons, mean string
		role, disposable                  bool
	}{
		{"jane@corp.example", "deliverable", "low", "no_smtp_mailbox_probe", "", false, false},
		{"info@shop.example", "deliverable", "medium", "mailbox_is_role_address,no_smtp_mailbox_probe", "", true, false},
		{"jane@nomail.example", "undeliverable", "high", "null_mx", "", false, false},
		{"jane@unregistered.example", "undeliverable", "high", "no_mx_or_a_records", "", false, false},
		{"jane@mailinator.com", "do_not_send", "high", "mailbox_is_disposable_address", "", false, true},
		{"jane@@corp.example", "undeliverable", "high", "invalid_syntax: character '@' not allowed in an unquoted local part", "", false, false},
		// gmial.com is not served by the test DNS server: a typo of gmail.com with no mail host.
		{"jane@gmial.com", "undeliverable", "high", "no_mx_or_a_records", "jane@gmail.com", false, false},
	} {
		got, err := mg.ValidateEmail(ctx, c.addr, true)
		if err != nil {
			t.Fatalf("ValidateEmail(%s): %v", c.addr, err)
		}
		if got.Address != c.addr || got.Result != c.result || got.Risk != c.risk || strings.Join(got.Reason, ",") != c.reasons ||
			got.IsRoleAddress != c.role || got.IsDisposableAddress != c.disposable || got.DidYouMean != c.mean {
			t.Errorf("ValidateEmail(%s) = %+v; want result %s, risk %s, reasons %s, role %v, disposable %v, did_you_mean %q",
				c.addr, got, c.result, c.risk, c.reasons, c.role, c.disposable, c.mean)
		}
	}

	// POST form; provider_lookup=false makes no DNS query; the provider
	// found from the MX host is named in a header.
	r := ta.Call(t, http.MethodPost, "/v4/address/validate", ta.Key,
		testutil.Form(url.Values{"address": {"jane@shop.example"}, "provider_lookup": {"false"}})).Want(t, http.StatusOK)
	var v mgapi.Validation
	r.Decode(t, &v)
	if v.Result != "unknown" || v.Risk != "unknown" || strings.Join(v.Reason, ",") != "provider_lookup_skipped" {
		t.Errorf("provider_lookup=false: %s", r)
	}
	r = ta.Call(t, http.MethodGet, "/v4/address/validate?address=jane@corp.example", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	if p := r.Header.Get("X-Salvo-Mailbox-Provider"); p != "gmail" {
		t.Errorf("provider header = %q, want gmail (MX at google.com)", p)
	}
	if !strings.Contains(r.Body, `"reason":["no_smtp_mailbox_probe"]`) || strings.Contains(r.Body, "did_you_mean") {
		t.Errorf("raw answer %s: want reason as an array and no did_you_mean", r.Body)
	}

	// Legacy v3: one reason string, the parts, is_valid.
	var v3 mgapi.ValidationV3
	ta.Call(t, http.MethodGet, "/v3/address/validate?address="+url.QueryEscape("Jane.Doe@Bücher.example"), ta.Key, testutil.NoBody).
		Want(t, http.StatusOK).Decode(t, &v3)
	if v3.Parts.LocalPart != "Jane.Doe" || v3.Parts.Domain != "bücher.example" || v3.IsValid || v3.MailboxVerification != "unknown" ||
		v3.Reason != "no_mx_or_a_records" {
		t.Errorf("v3 = %+v", v3)
	}

	// Client mistakes: 400, never 500.
	ta.Call(t, http.MethodGet, "/v4/address/validate", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusBadRequest, "Missing mandatory parameter: address")
	ta.Call(t, http.MethodGet, "/v4/address/validate?address=a@b.example&provider_lookup=maybe", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusBadRequest, `'provider_lookup' parameter must be yes, no, true or false, not "maybe"`)
	ta.Call(t, http.MethodGet, "/v4/address/validate?address="+strings.Repeat("a", 513), ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusBadRequest, "'address' parameter must be at most 512 characters")
}
