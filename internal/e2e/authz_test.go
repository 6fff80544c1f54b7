package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/api"
	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// publicRoutes are the only routes that may be served without a key. A new
// public route must be added here on purpose.
// The export download is public because its link is signed and expires.
var publicRoutes = map[string]bool{"GET /healthz": true, "GET /metrics": true, "GET /v3/exports/{id}/download": true}

// caller is one column of the authorization matrix.
type caller struct {
	name    string
	key     string
	allowed bool
}

// matrixCallers lists, in the order they call, who tries route rt and
// whether docs/mailgun-contract.md §1.2 lets them through. ownSend is a sending key of the
// route's domain. The primary key calls before the developer key so that a
// DELETE it makes is the first one that succeeds.
func matrixCallers(rt api.RouteInfo, wrong, otherSend, ownSend, basic, developer, primary string) []caller {
	public := rt.Access == auth.Public
	readOnly := rt.Method == http.MethodGet || rt.Method == http.MethodHead
	return []caller{
		{"no key", "", public},
		{"wrong key", wrong, public},
		{"sending key of another domain", otherSend, public},
		{"sending key of the route's domain", ownSend, public || rt.Access == auth.Send},
		{"basic role", basic, public || (rt.Access == auth.Account && readOnly)},
		{"primary key", primary, true},
		{"developer role", developer, rt.Access != auth.Admin},
	}
}

// fillPattern substitutes the path variables of a route pattern.
func fillPattern(t *testing.T, pattern string, values map[string]string) string {
	t.Helper()
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		v, ok := values[strings.Trim(s, "{}")]
		if !ok {
			t.Fatalf("route %s has variable %s that the authorization matrix cannot fill; teach TestAuthorizationMatrix", pattern, s)
		}
		segs[i] = v
	}
	return strings.Join(segs, "/")
}

// TestAuthorizationMatrix calls every registered route with every kind of
// caller and checks the documented outcome (docs/mailgun-contract.md §1.1, §1.2). Cases
// come from Routes(), so a new route is covered the moment it is added, and
// the test fails if it cannot fill the route's path.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	// Hundreds of wrong keys come from 127.0.0.1: keep the limiter out of it.
	ta := testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) {
		c.AuthFailureLimit = 1 << 30
		c.SourceIPs = matrixIP // the {ip} routes need a source address
	}})
	const other = "other.example.com"
	createDomain(t, ta, other)
	otherSend := sendingKey(t, ta, other).Secret
	basic := roleKey(t, ta, "basic").Secret
	developer := roleKey(t, ta, "developer").Secret
	wrong, _ := auth.NewKey()

	routes := ta.API.Routes()
	listed := map[string]bool{}
	for _, rt := range routes {
		listed[rt.Method+" "+rt.Pattern] = true
	}
	for _, name := range []string{"GET /healthz", "POST /v1/keys", "DELETE /v1/keys/{id}", "GET /v3/domains", "PUT /v4/domains/{name}",
		"POST /v3/{domain}/messages", "POST /v3/{domain}/messages.mime"} {
		if !listed[name] {
			t.Errorf("Routes() does not list %s", name)
		}
	}
	for i, rt := range routes {
		name := rt.Method + " " + rt.Pattern
		if rt.Access == auth.Public != publicRoutes[name] {
			t.Errorf("%s has access %s; public routes must be exactly %v", name, rt.Access, publicRoutes)
		}
		if strings.HasPrefix(rt.Pattern, "/v1/keys") && rt.Access != auth.Admin {
			t.Errorf("%s manages keys but has access %s, want admin", name, rt.Access)
		}
		switch rt.Access {
		case auth.Public, auth.Account, auth.Admin, auth.Send:
		default:
			t.Fatalf("%s has access class %d that this test does not know", name, rt.Access)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			domain := fmt.Sprintf("route%d.example.com", i)
			createDomain(t, ta, domain)
			ownSend := sendingKey(t, ta, domain).Secret
			victim := roleKey(t, ta, "basic").ID
			login, route := matrixCredentialAndRoute(t, ta, domain)
			// {key}, {token}, {n}, {ip} and {pool} name things that need not exist: the
			// authorization decision comes first, then a 404 or 400.
			values := map[string]string{"domain": domain, "name": domain, "id": victim,
				"key": "no-such-message", "token": "no-such-token", "n": "0", "kind": "clicked",
				"address": matrixAddress, "tag": matrixTag, "login": login, "route": route,
				"ip": matrixIP, "pool": "no-such-pool", "subaccount": createSubaccount(t, ta, domain)}
			for k, v := range routeFixtures(t, ta, rt.Pattern, domain) {
				values[k] = v
			}
			path := fillPattern(t, rt.Pattern, values)
			path += prepareMatrixRoute(t, ta, rt, domain) + seedRoute(t, ta, rt.Pattern, domain)
			for _, c := range matrixCallers(rt, wrong, otherSend, ownSend, basic, developer, ta.Key) {
				r := ta.Call(t, rt.Method, path, c.key, testutil.NoBody)
				switch {
				case !c.allowed:
					wantUnauthorized(t, rt, c.name, r)
				case r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests ||
					r.Status >= 500:
					t.Errorf("%s: %s; it should pass authorization", c.name, r)
				case c.name == "primary key" && rt.Method == http.MethodDelete && r.Status != http.StatusOK:
					// The refused callers before it must not have deleted anything.
					t.Errorf("%s: %s, want 200", c.name, r)
				}
			}
		})
	}
}

// matrixCredentialAndRoute makes an SMTP credential of domain and a route
// for the routes that name one ({login}, {route}), so the primary key's
// DELETE finds something to delete.
func matrixCredentialAndRoute(t *testing.T, ta *testutil.TestApp, domain string) (string, string) {
	t.Helper()
	login := "matrix@" + domain
	ta.Call(t, http.MethodPost, "/v3/domains/"+domain+"/credentials", ta.Key,
		testutil.Form(url.Values{"login": {login}, "password": {"matrix-pw"}})).Want(t, http.StatusOK)
	var env mgapi.RouteEnvelope
	ta.Call(t, http.MethodPost, "/v3/routes", ta.Key, testutil.Form(url.Values{"expression": {"catch_all()"},
		"action": {"stop()"}})).Want(t, http.StatusOK).Decode(t, &env)
	return login, env.Route.ID
}

// wantUnauthorized checks a refusal: 401 with text/plain "Forbidden" on the
// send routes and {"message":"Invalid private key"} everywhere else.
func wantUnauthorized(t *testing.T, rt api.RouteInfo, who string, r testutil.Response) {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Errorf("%s: %s, want 401", who, r)
		return
	}
	if rt.Access == auth.Send {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || r.Body != "Forbidden" {
			t.Errorf("%s: %s = %q (%s), want text/plain Forbidden", who, r.Request, r.Body, ct)
		}
		return
	}
	// An unknown key gets Mailgun's message; a valid key that may not use
	// the route gets it followed by what the key may do.
	var got struct{ Message string }
	r.Decode(t, &got)
	if got.Message != "Invalid private key" &&
		!(strings.HasPrefix(got.Message, "Invalid private key: a ") && strings.Contains(got.Message, " "+rt.Method+" "+rt.Pattern)) {
		t.Errorf("%s: %s, want \"Invalid private key\" or why this key may not use %s %s", who, r, rt.Method, rt.Pattern)
	}
}

// TestAuthFailureThrottling: after AuthFailureLimit failures an address gets
// 429 with Retry-After, on every route family, while a valid key from the
// same address is still served; a minute later it may try again.
func TestAuthFailureThrottling(t *testing.T) {
	t.Parallel()
	const limit = 3
	clock := testutil.NewClock(time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC))
	ta := testutil.StartApp(t, testutil.AppOptions{
		Configure: func(c *config.Config) { c.AuthFailureLimit = limit },
		Seams:     app.Seams{Now: clock.Now},
	})
	wrong, _ := auth.NewKey()
	start := clock.Now()
	for i := range limit {
		key := wrong
		if i == 0 {
			key = "" // a missing key counts as a failure too
		}
		ta.Call(t, http.MethodGet, "/v3/domains", key, testutil.NoBody).WantMessage(t, http.StatusUnauthorized, "Invalid private key")
	}
	for _, path := range []string{"/v3/domains", "/v1/keys", "/v3/mg.example.com/messages"} {
		method := http.MethodGet
		if strings.HasSuffix(path, "/messages") {
			method = http.MethodPost
		}
		clock.Advance(10 * time.Second)
		r := ta.Call(t, method, path, wrong, testutil.NoBody).Want(t, http.StatusTooManyRequests)
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if left := 60 - int(clock.Now().Sub(start).Seconds()); err != nil || secs < left || secs > left+1 {
			t.Errorf("%s: Retry-After %q, want the %d seconds left of the minute", r.Request, r.Header.Get("Retry-After"), left)
		}
		var body map[string]string
		r.Decode(t, &body)
		if body["message"] == "" {
			t.Errorf("%s: 429 body %s has no message", r.Request, r.Body)
		}
	}
	ta.Call(t, http.MethodGet, "/v3/domains", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodGet, "/v1/keys", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	clock.Advance(31 * time.Second) // the minute of the first failure is over
	ta.Call(t, http.MethodGet, "/v3/domains", wrong, testutil.NoBody).WantMessage(t, http.StatusUnauthorized, "Invalid private key")
}
