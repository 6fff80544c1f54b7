package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// TestSubaccountsThroughSDK drives mailgun-go's subaccount calls
// (CreateSubaccount, GetSubaccount, SubaccountDetails, ListSubaccounts,
// DisableSubaccount, EnableSubaccount) and its On-Behalf-Of send
// (SetOnBehalfOfSubaccount), on both stores.
func TestSubaccountsThroughSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: postgres})
		ctx := context.Background()
		mg5 := mailgun.NewMailgun(testDomain, e.app.Key)
		mg5.SetAPIBase(e.app.URL + "/v5") // the subaccount calls live under /v5 (docs/mailgun-contract.md §13.4)

		shop, err := mg5.CreateSubaccount(ctx, "Shop EU")
		if err != nil {
			t.Fatalf("CreateSubaccount: %v", err)
		}
		if shop.Item.Id == "" || shop.Item.Name != "Shop EU" || shop.Item.Status != "open" {
			t.Fatalf("CreateSubaccount = %+v", shop.Item)
		}
		blog, err := mg5.CreateSubaccount(ctx, "Blog")
		if err != nil {
			t.Fatalf("CreateSubaccount: %v", err)
		}
		got, err := mg5.GetSubaccount(ctx, shop.Item.Id)
		if err != nil || got.Item != shop.Item {
			t.Fatalf("GetSubaccount = %+v, %v; want %+v", got.Item, err, shop.Item)
		}
		if got, err := mg5.SubaccountDetails(ctx, blog.Item.Id); err != nil || got.Item != blog.Item {
			t.Fatalf("SubaccountDetails = %+v, %v; want %+v", got.Item, err, blog.Item)
		}
		if _, err := mg5.GetSubaccount(ctx, "0123456789abcdef01234567"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("GetSubaccount of an unknown id: %v, want 404", err)
		}
		it := mg5.ListSubaccounts(&mailgun.ListSubaccountsOptions{Limit: 1})
		var page, all []mailgun.Subaccount
		for it.Next(ctx, &page) {
			all = append(all, page...)
		}
		if it.Err() != nil || len(all) != 2 || all[0] != shop.Item || all[1] != blog.Item {
			t.Fatalf("ListSubaccounts pages = %+v, %v; want shop then blog", all, it.Err())
		}

		// The subaccount's domain, made by the parent on its behalf.
		sub, subDomain := shop.Item.Id, "shop.example.net"
		e.app.Call(t, http.MethodPost, "/v3/domains", e.app.Key,
			behalf(testutil.Form(url.Values{"name": {subDomain}}), sub)).Want(t, http.StatusOK)
		e.app.Call(t, http.MethodPost, "/v3/domains/"+subDomain+"/credentials", e.app.Key,
			behalf(testutil.Form(url.Values{"login": {"app"}, "password": {relayPassword}}), sub)).Want(t, http.StatusOK)
		mgSub := mailgun.NewMailgun(subDomain, e.app.Key)
		mgSub.SetAPIBase(e.app.URL + "/v3")
		mgSub.SetOnBehalfOfSubaccount(sub)
		msg := mailgun.NewMessage("Shop <news@"+subDomain+">", "on behalf", "hello", "ann@dest.example")
		if _, _, err := mgSub.Send(ctx, msg); err != nil {
			t.Fatalf("Send on behalf of the subaccount: %v", err)
		}
		if rcvd := waitReceived(t, e, 1); !strings.Contains(string(rcvd[0].Data), "Subject: on behalf") {
			t.Fatalf("MX got %q", rcvd[0].Data)
		}
		// Without the header the parent does not see the subaccount's domain.
		mgParent := mailgun.NewMailgun(subDomain, e.app.Key)
		mgParent.SetAPIBase(e.app.URL + "/v3")
		if _, _, err := mgParent.Send(ctx, mailgun.NewMessage("news@"+subDomain, "s", "t", "ann@dest.example")); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("parent Send to a subaccount's domain without On-Behalf-Of: %v, want 404", err)
		}

		// Disabled: no sending over HTTP (either key) or SMTP; reads work.
		off, err := mg5.DisableSubaccount(ctx, sub)
		if err != nil || off.Item.Status != "disabled" {
			t.Fatalf("DisableSubaccount = %+v, %v", off.Item, err)
		}
		if _, _, err := mgSub.Send(ctx, mailgun.NewMessage("news@"+subDomain, "s", "t", "ann@dest.example")); mailgun.GetStatusFromErr(err) != http.StatusForbidden ||
			!strings.Contains(err.Error(), "disabled") {
			t.Fatalf("Send for a disabled subaccount: %v, want 403 naming it disabled", err)
		}
		subKey := subaccountKey(t, e.app, sub, "admin")
		e.app.Call(t, http.MethodPost, "/v3/"+subDomain+"/messages", subKey, testutil.Form(url.Values{
			"from": {"news@" + subDomain}, "to": {"bob@dest.example"}, "subject": {"s"}, "text": {"t"}})).
			WantMessage(t, http.StatusForbidden, "Forbidden: the subaccount is disabled and cannot send; its parent account can enable it again")
		c := dialSMTP(t, e.app.SubmissionAddr(), "starttls")
		if err := c.Auth(sasl.NewPlainClient("", "app@"+subDomain, relayPassword)); err != nil {
			t.Fatalf("AUTH: %v", err)
		}
		_, err = submit(c, "app@"+subDomain, []string{"bob@dest.example"}, rfcMessage("app@"+subDomain, "bob@dest.example", "smtp", "body"))
		wantSMTPError(t, "SMTP from a disabled subaccount", err, 550, "5.7.1", "disabled")
		_ = c.Reset()
		var dom mgapi.DomainResponse
		e.app.Call(t, http.MethodGet, "/v3/domains/"+subDomain, subKey, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &dom)
		var evs eventsPage
		e.app.Call(t, http.MethodGet, "/v3/"+subDomain+"/events?event=accepted", e.app.Key, behalf(testutil.NoBody, sub)).
			Want(t, http.StatusOK).Decode(t, &evs)
		if len(evs.Items) != 1 || evs.Items[0].Message.Headers.Subject != "on behalf" {
			t.Fatalf("a disabled subaccount's events: %+v, want the one accepted message", evs.Items)
		}

		on, err := mg5.EnableSubaccount(ctx, sub)
		if err != nil || on.Item.Status != "open" {
			t.Fatalf("EnableSubaccount = %+v, %v", on.Item, err)
		}
		if _, err := submit(c, "app@"+subDomain, []string{"bob@dest.example"}, rfcMessage("app@"+subDomain, "bob@dest.example", "smtp", "body")); err != nil {
			t.Fatalf("SMTP after enable: %v", err)
		}
		if _, _, err := mgSub.Send(ctx, mailgun.NewMessage("news@"+subDomain, "again", "t", "ann@dest.example")); err != nil {
			t.Fatalf("Send after enable: %v", err)
		}
		waitReceived(t, e, 3)
	})
}

// TestSubaccountOnBehalfOfRefusals: X-Mailgun-On-Behalf-Of is for a
// parent's account keys only, and names one of its subaccounts; a
// subaccount cannot manage subaccounts; domain names stay unique across
// accounts.
func TestSubaccountOnBehalfOfRefusals(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, postgres bool) {
		ta := testutil.StartApp(t, testutil.AppOptions{Postgres: postgres})
		createDomain(t, ta, "parent.example.com")
		sa, sb := createSubaccount(t, ta, "A"), createSubaccount(t, ta, "B")
		saKey := subaccountKey(t, ta, sa, "admin")
		sub := as(ta, saKey)
		createDomain(t, sub, "a.example.com")
		saSend := sendingKey(t, sub, "a.example.com").Secret
		parentSend := sendingKey(t, ta, "parent.example.com").Secret
		send := func(domain string) testutil.Body {
			return testutil.Form(url.Values{"from": {"x@" + domain}, "to": {"y@dest.example"}, "subject": {"s"}, "text": {"t"},
				"o:testmode": {"yes"}})
		}

		// A subaccount's own sending key sends for its domain.
		ta.Call(t, http.MethodPost, "/v3/a.example.com/messages", saSend, send("a.example.com")).Want(t, http.StatusOK)
		// A sending key may not use On-Behalf-Of, whoever's it is and
		// whichever id it names (a key of another domain is refused
		// before: 401).
		for _, c := range []struct{ key, domain string }{{saSend, "a.example.com"}, {parentSend, "parent.example.com"}} {
			for _, id := range []string{sa, sb} {
				ta.Call(t, http.MethodPost, "/v3/"+c.domain+"/messages", c.key, behalf(send(c.domain), id)).WantMessage(t, http.StatusForbidden,
					"Forbidden: a sending key cannot act on behalf of a subaccount (X-Mailgun-On-Behalf-Of); use the subaccount's own sending key or a parent account key")
			}
		}
		// An id that is no subaccount.
		ta.Call(t, http.MethodGet, "/v3/domains", ta.Key, behalf(testutil.NoBody, "0123456789abcdef01234567")).
			WantMessage(t, http.StatusForbidden, "Forbidden: X-Mailgun-On-Behalf-Of names no subaccount of this account")
		// A subaccount's key may repeat its own id, not name another.
		ta.Call(t, http.MethodGet, "/v3/domains/a.example.com", saKey, behalf(testutil.NoBody, sa)).Want(t, http.StatusOK)
		ta.Call(t, http.MethodGet, "/v3/domains", saKey, behalf(testutil.NoBody, sb)).WantMessage(t, http.StatusForbidden,
			"Forbidden: a subaccount's key cannot act on behalf of another account (X-Mailgun-On-Behalf-Of)")
		// Only the parent manages subaccounts.
		for _, path := range []string{"/v5/accounts/subaccounts", "/v5/accounts/subaccounts/" + sb, "/v5/accounts/subaccounts/" + sb + "/disable"} {
			method := http.MethodGet
			if strings.HasSuffix(path, "/disable") {
				method = http.MethodPost
			}
			r := ta.Call(t, method, path, saKey, testutil.NoBody).Want(t, http.StatusForbidden)
			if !strings.Contains(r.Body, "belongs to the parent account") {
				t.Errorf("%s: %s", path, r)
			}
			ta.Call(t, method, path, ta.Key, behalf(testutil.NoBody, sa)).Want(t, http.StatusForbidden)
		}
		ta.Call(t, http.MethodGet, "/v5/accounts/subaccounts/"+sb, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
		ta.Call(t, http.MethodPost, "/v5/accounts/subaccounts/nope/disable", ta.Key, testutil.NoBody).
			WantMessage(t, http.StatusNotFound, "Subaccount not found")
		ta.Call(t, http.MethodPost, "/v5/accounts/subaccounts", ta.Key, testutil.NoBody).
			WantMessage(t, http.StatusBadRequest, "Missing mandatory parameter: name")
		// Domain names are unique across accounts, both ways.
		for _, c := range []struct{ key, name string }{{saKey, "parent.example.com"}, {ta.Key, "a.example.com"}} {
			ta.Call(t, http.MethodPost, "/v3/domains", c.key, testutil.Form(url.Values{"name": {c.name}})).
				WantMessage(t, http.StatusBadRequest, "Domain "+c.name+" already exists")
		}
		// A subaccount's sending key cannot be made for another account's domain.
		ta.Call(t, http.MethodPost, "/v1/keys", saKey, testutil.Form(url.Values{"role": {"sending"}, "domain_name": {"parent.example.com"}})).
			WantMessage(t, http.StatusNotFound, "Domain not found: parent.example.com")
	})
}
