package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/templates"
)

// TestAccountSwitchScopesRoutesAndLists: routes and mailing lists made in
// the dashboard belong to the account acted in (the API with and without
// X-Mailgun-On-Behalf-Of agrees), each account's Routes and Lists pages
// show only its own, and another account's route or list is a 404. A
// switch to an unknown subaccount is refused, and a tampered account
// cookie falls back to the parent.
func TestAccountSwitchScopesRoutesAndLists(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	const acme, acmeDomain = "acmeroutes0001", "acme.example.com"
	if err := d.Global.CreateSubaccount(ctx, store.Subaccount{ID: acme, Name: "Acme", Status: store.SubaccountOpen, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: acmeDomain, AccountID: acme, Owner: acme}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	c := d.client(t)
	token := c.login(testEmail, testPassword)
	mustForm := func(path string, form url.Values) {
		t.Helper()
		form.Set("csrf", token)
		p := c.post(path, form)
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", path, p.StatusCode, p.Body)
		}
		if next := c.get(p.Header.Get("Location")); strings.Contains(next.Body, `id="form-error"`) {
			t.Fatalf("POST %s refused:\n%s", path, next.Body)
		}
	}
	api := func(path, onBehalf string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, d.Base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("api", d.Key)
		if onBehalf != "" {
			req.Header.Set(auth.OnBehalfOfHeader, onBehalf)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	mustForm("/dashboard/routes", url.Values{"priority": {"1"}, "description": {"parent-route"}, "expression": {`match_recipient("p@.*")`}, "actions": {"stop()"}})
	mustForm("/dashboard/lists", url.Values{"address": {"parent-list@" + testDomain}})
	mustForm("/dashboard/account/switch", url.Values{"account": {acme}})
	mustForm("/dashboard/routes", url.Values{"priority": {"1"}, "description": {"acme-route"}, "expression": {`match_recipient("a@.*")`}, "actions": {"stop()"}})
	mustForm("/dashboard/lists", url.Values{"address": {"acme-list@" + acmeDomain}})

	acmeRoutes, _, err := d.Regional.AccountRoutes(ctx, acme, 0, 10)
	if err != nil || len(acmeRoutes) != 1 || acmeRoutes[0].Description != "acme-route" {
		t.Fatalf("Acme's routes = %+v, %v", acmeRoutes, err)
	}
	parentRoutes, _, err := d.Regional.AccountRoutes(ctx, "", 0, 10)
	if err != nil || len(parentRoutes) != 1 || parentRoutes[0].Description != "parent-route" {
		t.Fatalf("parent's routes = %+v, %v", parentRoutes, err)
	}
	if got := api("/v3/lists/acme-list@"+acmeDomain, acme); got != http.StatusOK {
		t.Errorf("API On-Behalf-Of Acme: Acme's list = %d", got)
	}
	if got := api("/v3/lists/acme-list@"+acmeDomain, ""); got != http.StatusNotFound {
		t.Errorf("API as the parent: Acme's list = %d", got)
	}
	if got := api("/v3/routes/"+acmeRoutes[0].ID, acme); got != http.StatusOK {
		t.Errorf("API On-Behalf-Of Acme: Acme's route = %d", got)
	}

	// Inside Acme.
	if p := c.get("/dashboard/routes"); !strings.Contains(p.Body, "acme-route") || strings.Contains(p.Body, "parent-route") {
		t.Errorf("Acme's Routes page: %d\n%s", p.StatusCode, p.Body)
	}
	if p := c.get("/dashboard/lists"); !strings.Contains(p.Body, "acme-list@") || strings.Contains(p.Body, "parent-list@") {
		t.Errorf("Acme's Lists page: %d\n%s", p.StatusCode, p.Body)
	}
	for _, path := range []string{"/dashboard/routes/" + parentRoutes[0].ID, "/dashboard/lists/parent-list@" + testDomain,
		"/dashboard/domains/" + testDomain} {
		if p := c.get(path); p.StatusCode != http.StatusNotFound || !strings.Contains(p.Body, "Acting in the subaccount <strong>Acme</strong>") {
			t.Errorf("GET %s inside Acme: %d (the 404 page must say which account is shown)", path, p.StatusCode)
		}
	}
	// Nor can a template be made in another account's domain.
	if p := c.post("/dashboard/templates", url.Values{"csrf": {token}, "domain": {testDomain}, "name": {"stray"}}); p.StatusCode != http.StatusNotFound {
		t.Errorf("create a template in the parent's domain inside Acme: %d", p.StatusCode)
	}
	// Another account's route cannot be deleted either.
	if p := c.post("/dashboard/routes/"+parentRoutes[0].ID+"/delete", url.Values{"csrf": {token}}); p.StatusCode != http.StatusNotFound {
		t.Errorf("delete the parent's route inside Acme: %d", p.StatusCode)
	}
	if _, err := d.Regional.Route(ctx, parentRoutes[0].ID); err != nil {
		t.Errorf("parent's route after a refused delete: %v", err)
	}

	// The choice is sealed for its session: in another session, or
	// tampered with, it is worth nothing and that session is the parent's.
	c.jar.mu.Lock()
	chosen := c.jar.m["salvo_account"]
	c.jar.mu.Unlock()
	if chosen == "" {
		t.Fatal("no account cookie after the switch")
	}
	other := d.client(t)
	other.login(testEmail, testPassword)
	flipped := "A"
	if chosen[0] == 'A' {
		flipped = "B"
	}
	for what, v := range map[string]string{"another session's": chosen, "a tampered": flipped + chosen[1:]} {
		other.jar.mu.Lock()
		other.jar.m["salvo_account"] = v
		other.jar.mu.Unlock()
		if p := other.get("/dashboard/routes"); p.StatusCode != http.StatusOK || strings.Contains(p.Body, "acme-route") || !strings.Contains(p.Body, "parent-route") {
			t.Errorf("with %s account cookie the Routes page is not the parent's: %d", what, p.StatusCode)
		}
	}

	// An unknown subaccount is refused and leaves the choice as it was.
	if p := c.post("/dashboard/account/switch", url.Values{"csrf": {token}, "account": {"nosuchaccount"}}); p.StatusCode != http.StatusSeeOther {
		t.Errorf("switch to an unknown subaccount: %d", p.StatusCode)
	} else if next := c.get(p.Header.Get("Location")); !strings.Contains(next.Body, "There is no subaccount nosuchaccount") {
		t.Errorf("switch to an unknown subaccount said:\n%s", next.Body)
	}
	if p := c.get("/dashboard/routes"); !strings.Contains(p.Body, "acme-route") {
		t.Errorf("after a refused switch, Routes page is not Acme's")
	}

	// Back in the parent.
	mustForm("/dashboard/account/switch", url.Values{"account": {""}})
	if p := c.get("/dashboard/routes"); strings.Contains(p.Body, "acme-route") || !strings.Contains(p.Body, "parent-route") {
		t.Errorf("parent's Routes page: %d\n%s", p.StatusCode, p.Body)
	}
	for _, path := range []string{"/dashboard/routes/" + acmeRoutes[0].ID, "/dashboard/lists/acme-list@" + acmeDomain} {
		if p := c.get(path); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s in the parent: %d", path, p.StatusCode)
		}
	}
	// The parent's API Keys page neither lists nor revokes Acme's keys.
	k, _, err := d.Keys.Create(ctx, auth.KeyRequest{Role: store.RoleSending, DomainName: acmeDomain, Description: "acme key", AccountID: acme})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.get("/dashboard/account/api-keys"); strings.Contains(p.Body, k.ID) {
		t.Errorf("parent's API Keys page lists Acme's key %s", k.ID)
	}
	p := c.post("/dashboard/account/api-keys/"+k.ID+"/revoke", url.Values{"csrf": {token}})
	if next := c.get(p.Header.Get("Location")); !strings.Contains(next.Body, "no key matching id") {
		t.Errorf("revoke Acme's key from the parent: %d, then\n%s", p.StatusCode, next.Body)
	}
	if _, err := d.Global.Key(ctx, k.ID); err != nil {
		t.Errorf("Acme's key after the parent's revoke: %v", err)
	}
	mustForm("/dashboard/account/switch", url.Values{"account": {acme}})
	if p := c.get("/dashboard/account/api-keys"); !strings.Contains(p.Body, k.ID) || !strings.Contains(p.Body, `id="no-primary"`) {
		t.Errorf("Acme's API Keys page lacks its key %s or the primary key note:\n%s", k.ID, p.Body)
	}
	mustForm("/dashboard/account/api-keys/"+k.ID+"/revoke", url.Values{})
	if _, err := d.Global.Key(ctx, k.ID); err == nil {
		t.Error("Acme's key survived its revoke inside Acme")
	}
}

// TestAccountSwitchDisabledSubaccount: a disabled subaccount is shown and
// readable inside the switcher, but its template test send is refused
// with the clear message.
func TestAccountSwitchDisabledSubaccount(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	const acme, acmeDomain = "acmedisabled01", "acme.example.com"
	if err := d.Global.CreateSubaccount(ctx, store.Subaccount{ID: acme, Name: "Acme", Status: store.SubaccountOpen, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: acmeDomain, AccountID: acme, Owner: acme}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Templates.Create(ctx, acmeDomain, "welcome", "", "test", &templates.VersionInput{Tag: "v1", Content: "<p>Hello</p>", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Global.SetSubaccountStatus(ctx, acme, store.SubaccountDisabled, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := d.client(t)
	token := c.login(testEmail, testPassword)
	if p := c.get("/dashboard/"); !strings.Contains(p.Body, "Acme (disabled)") {
		t.Errorf("the switcher does not offer the disabled Acme:\n%s", p.Body)
	}
	p := c.post("/dashboard/account/switch", url.Values{"csrf": {token}, "account": {acme}})
	if next := c.get(p.Header.Get("Location")); !strings.Contains(next.Body, "It is disabled") {
		t.Errorf("switch into the disabled Acme: %d, then\n%s", p.StatusCode, next.Body)
	}
	if p := c.get("/dashboard/domains/" + acmeDomain); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "cannot send") {
		t.Errorf("disabled Acme's domain page: %d\n%s", p.StatusCode, p.Body)
	}
	p = c.post("/dashboard/templates/"+acmeDomain+"/welcome/versions/v1/send", url.Values{"csrf": {token},
		"to": {"someone@example.org"}, "from": {"app@" + acmeDomain}, "subject": {"hi"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send: %d\n%s", p.StatusCode, p.Body)
	}
	if next := c.get(p.Header.Get("Location")); !strings.Contains(next.Body, "the subaccount is disabled and cannot send") {
		t.Errorf("test send of the disabled Acme was not refused clearly:\n%s", next.Body)
	}
}
