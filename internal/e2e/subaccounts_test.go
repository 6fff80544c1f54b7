package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/api"
	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// createSubaccount makes a subaccount with the parent's key and returns
// its id.
func createSubaccount(t testing.TB, ta *testutil.TestApp, name string) string {
	t.Helper()
	var out mgapi.SubaccountEnvelope
	ta.Call(t, http.MethodPost, "/v5/accounts/subaccounts", ta.Key, testutil.Form(url.Values{"name": {name}})).
		Want(t, http.StatusOK).Decode(t, &out)
	if out.Subaccount.ID == "" || out.Subaccount.Name != name || out.Subaccount.Status != "open" {
		t.Fatalf("created subaccount %+v, want an id, name %q and status open", out.Subaccount, name)
	}
	return out.Subaccount.ID
}

// behalf is b with X-Mailgun-On-Behalf-Of: id (b unchanged when id is "").
func behalf(b testutil.Body, id string) testutil.Body {
	if id == "" {
		return b
	}
	h := b.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(auth.OnBehalfOfHeader, id)
	return testutil.Body{Header: h, Data: b.Data}
}

// subaccountKey creates a key of role inside subaccount id (the parent's
// key acting on its behalf) and returns its secret.
func subaccountKey(t testing.TB, ta *testutil.TestApp, id, role string) string {
	t.Helper()
	var out mgapi.KeyCreated
	ta.Call(t, http.MethodPost, "/v1/keys", ta.Key, behalf(testutil.Form(url.Values{"role": {role}}), id)).
		Want(t, http.StatusOK).Decode(t, &out)
	if out.Key.Secret == "" {
		t.Fatalf("created key without secret: %+v", out)
	}
	return out.Key.Secret
}

// as is ta seen through another key: the e2e helpers that act with
// ta.Key then act inside that key's account. It must not be stopped.
func as(ta *testutil.TestApp, key string) *testutil.TestApp {
	return &testutil.TestApp{App: ta.App, URL: ta.URL, Key: key, Logs: ta.Logs}
}

// intruder is a caller that must not reach another account's data.
type intruder struct {
	name   string
	key    string
	behalf string // X-Mailgun-On-Behalf-Of, "" for none
	sub    bool   // acts inside a subaccount (parent-only routes refuse it)
}

// sharedRoute reports whether a route is about what the whole
// installation shares (source IPs, IP pools, the webhook signing key):
// TestSubaccountSharedRoutes covers them.
func sharedRoute(pattern string) bool {
	return strings.HasPrefix(pattern, "/v3/ips") || strings.HasPrefix(pattern, "/v3/ip_pools") ||
		pattern == "/v5/accounts/http_signing_key"
}

// ownedVariable reports whether a route's path names something an
// account owns (a domain, a list, a route, a key): another account gets
// 404 for it, as if it did not exist.
func ownedVariable(pattern string) bool {
	for _, v := range []string{"{domain}", "{name}", "{route}"} {
		if strings.Contains(pattern, v) {
			return true
		}
	}
	return strings.HasPrefix(pattern, "/v3/lists/{address}") || pattern == "/v1/keys/{id}"
}

// TestSubaccountIsolation extends the authorization matrix with a
// subaccount dimension: every registered route is called, both ways,
// by callers of another account — a subaccount's own key and the parent's
// key with X-Mailgun-On-Behalf-Of when the parent owns the data; the
// parent's key without the header, another subaccount's key and the
// parent acting for another subaccount when a subaccount owns it. A path
// naming the owner's domain, list, route or key answers 404 to them; a
// listing answers without the owner's items, which the owner itself sees.
// It runs on both store backends: SQLite and PostgreSQL.
func TestSubaccountIsolation(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			subaccountIsolation(t, backend.postgres)
		})
	}
}

func subaccountIsolation(t *testing.T, postgres bool) {
	ta := testutil.StartApp(t, testutil.AppOptions{Postgres: postgres, Configure: func(c *config.Config) {
		c.AuthFailureLimit = 1 << 30
		c.SourceIPs = matrixIP
	}})
	sa := createSubaccount(t, ta, "tenant A")
	sb := createSubaccount(t, ta, "tenant B")
	saKey := subaccountKey(t, ta, sa, "admin")
	sbKey := subaccountKey(t, ta, sb, "admin")
	// {subaccount} of the subaccount routes: the parent may disable and
	// enable it while the others run.
	sc := createSubaccount(t, ta, "tenant C")

	directions := []struct {
		name      string
		owner     *testutil.TestApp
		intruders []intruder
	}{
		{"parent owns", ta, []intruder{
			{"subaccount's own key", saKey, "", true},
			{"parent key on behalf of a subaccount", ta.Key, sa, true},
		}},
		{"subaccount owns", as(ta, saKey), []intruder{
			{"parent key without On-Behalf-Of", ta.Key, "", false},
			{"another subaccount's key", sbKey, "", true},
			{"parent key on behalf of another subaccount", ta.Key, sb, true},
		}},
	}
	for d, dir := range directions {
		for i, rt := range ta.API.Routes() {
			if rt.Access == auth.Public || sharedRoute(rt.Pattern) {
				continue
			}
			name := dir.name + "/" + rt.Method + " " + rt.Pattern
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				subaccountRouteCase(t, ta, dir.owner, dir.intruders, rt, fmt.Sprintf("s%d-r%d.example.com", d, i), sc)
			})
		}
	}
}

// subaccountRouteCase creates the owner's data for route rt in domain,
// lets each intruder call the route, then the owner.
func subaccountRouteCase(t *testing.T, ta, owner *testutil.TestApp, intruders []intruder, rt api.RouteInfo, domain, sub string) {
	createDomain(t, owner, domain)
	victim := roleKey(t, owner, "basic").ID
	login, route := matrixCredentialAndRoute(t, owner, domain)
	list := "list@" + domain
	if !strings.HasPrefix(rt.Pattern, "/v3/lists/{address}") {
		owner.Call(t, http.MethodPost, "/v3/lists", owner.Key, testutil.Form(url.Values{"address": {list}})).Want(t, http.StatusOK)
	}
	values := map[string]string{"domain": domain, "name": domain, "id": victim,
		"key": "no-such-message", "token": "no-such-token", "n": "0", "kind": "clicked",
		"address": matrixAddress, "tag": matrixTag, "login": login, "route": route,
		"ip": matrixIP, "pool": "no-such-pool", "subaccount": sub}
	for k, v := range routeFixtures(t, owner, rt.Pattern, domain) {
		values[k] = v
	}
	path := fillPattern(t, rt.Pattern, values)
	path += prepareMatrixRoute(t, owner, rt, domain) + seedRoute(t, owner, rt.Pattern, domain)
	// What a listing of the owner's data shows, and an intruder's must not.
	needles := []string{domain, route, victim, list}
	parentOnly := strings.HasPrefix(rt.Pattern, "/v5/accounts/subaccounts")

	for _, in := range intruders {
		if parentOnly && !in.sub {
			continue // the parent managing its subaccounts is the matrix's business
		}
		r := ta.Call(t, rt.Method, path, in.key, behalf(testutil.NoBody, in.behalf))
		switch {
		case parentOnly:
			if r.Status != http.StatusForbidden {
				t.Errorf("%s: %s, want 403 (subaccounts are managed by the parent only)", in.name, r)
			}
		case ownedVariable(rt.Pattern):
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: %s, want 404 (another account's)", in.name, r)
			}
		case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500:
			t.Errorf("%s: %s; a listing of its own account should answer", in.name, r)
		default:
			for _, n := range needles {
				if strings.Contains(r.Body, n) {
					t.Errorf("%s: %s shows %q of another account", in.name, r, n)
				}
			}
		}
	}
	if parentOnly && owner.Key != ta.Key {
		r := owner.Call(t, rt.Method, path, owner.Key, testutil.NoBody)
		if r.Status != http.StatusForbidden {
			t.Errorf("subaccount's own key: %s, want 403", r)
		}
		return
	}
	r := owner.Call(t, rt.Method, path, owner.Key, testutil.NoBody)
	switch {
	case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests ||
		r.Status >= 500:
		t.Errorf("owner: %s; it should pass", r)
	case rt.Method == http.MethodDelete && r.Status != http.StatusOK:
		t.Errorf("owner: %s, want 200 (the intruders must not have deleted it)", r)
	}
	// The owner's own listings show its data.
	want := map[string]string{"/v3/domains": domain, "/v4/domains": domain, "/v3/routes": route, "/v1/keys": victim,
		"/v3/lists": list, "/v3/lists/pages": list}[rt.Pattern]
	if rt.Method == http.MethodGet && want != "" && !strings.Contains(r.Body, want) {
		// The parallel cases fill one app: past the first page (100 by
		// default), the owner's item is on a longer one.
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		r = owner.Call(t, rt.Method, path+sep+"limit=1000", owner.Key, testutil.NoBody)
		if !strings.Contains(r.Body, want) {
			t.Errorf("owner: %s does not show its own %q", r, want)
		}
	}
}

// TestSubaccountSharedRoutes: source IPs, IP pools and the webhook
// signing key belong to the whole installation. A subaccount (own key or
// On-Behalf-Of) may read them but not change them; the parent may.
func TestSubaccountSharedRoutes(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) { c.SourceIPs = matrixIP }})
	sa := createSubaccount(t, ta, "tenant")
	saKey := subaccountKey(t, ta, sa, "admin")
	var pool mgapi.IPPoolCreated
	ta.Call(t, http.MethodPost, "/v3/ip_pools", ta.Key, testutil.Form(url.Values{"name": {"shared"}})).
		Want(t, http.StatusOK).Decode(t, &pool)
	for _, c := range []struct{ key, behalf string }{{saKey, ""}, {ta.Key, sa}} {
		for _, path := range []string{"/v3/ips", "/v3/ips/" + matrixIP, "/v3/ip_pools", "/v3/ip_pools/" + pool.PoolID,
			"/v5/accounts/http_signing_key"} {
			ta.Call(t, http.MethodGet, path, c.key, behalf(testutil.NoBody, c.behalf)).Want(t, http.StatusOK)
		}
		for _, w := range []struct{ method, path string }{
			{http.MethodPost, "/v3/ip_pools"}, {http.MethodDelete, "/v3/ip_pools/" + pool.PoolID},
			{http.MethodPatch, "/v3/ip_pools/" + pool.PoolID}, {http.MethodPost, "/v5/accounts/http_signing_key"},
		} {
			r := ta.Call(t, w.method, w.path, c.key, behalf(testutil.Form(url.Values{"name": {"x"}}), c.behalf)).
				Want(t, http.StatusForbidden)
			if !strings.Contains(r.Body, "belongs to the parent account") {
				t.Errorf("%s: %s, want the parent-only refusal", w.method+" "+w.path, r)
			}
		}
	}
	// A shared pool's linked domains: a subaccount sees its own only.
	createDomain(t, ta, "parent.example.com")
	createDomain(t, as(ta, saKey), "tenant.example.com")
	for _, c := range []struct{ key, domain string }{{ta.Key, "parent.example.com"}, {saKey, "tenant.example.com"}} {
		ta.Call(t, http.MethodPost, "/v3/domains/"+c.domain+"/ips", c.key, testutil.Form(url.Values{"pool_id": {pool.PoolID}})).
			Want(t, http.StatusOK)
	}
	for _, c := range []struct {
		key, behalf string
		want        []string
	}{{ta.Key, "", []string{"parent.example.com", "tenant.example.com"}}, {saKey, "", []string{"tenant.example.com"}},
		{ta.Key, sa, []string{"tenant.example.com"}}} {
		var details mgapi.IPPoolDetails
		ta.Call(t, http.MethodGet, "/v3/ip_pools/"+pool.PoolID, c.key, behalf(testutil.NoBody, c.behalf)).
			Want(t, http.StatusOK).Decode(t, &details)
		var linked mgapi.IPPoolDomains
		ta.Call(t, http.MethodGet, "/v3/ip_pools/"+pool.PoolID+"/domains", c.key, behalf(testutil.NoBody, c.behalf)).
			Want(t, http.StatusOK).Decode(t, &linked)
		names := []string{}
		for _, d := range linked.Domains {
			names = append(names, d.Name)
		}
		if strings.Join(details.Details.LinkedDomains, ",") != strings.Join(c.want, ",") || strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("pool's linked domains (On-Behalf-Of %q): %v and %v, want %v", c.behalf, details.Details.LinkedDomains, names, c.want)
		}
	}
	ta.Call(t, http.MethodDelete, "/v3/ip_pools/"+pool.PoolID, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
}
