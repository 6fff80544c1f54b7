package api

import (
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func newTestRouter(patterns ...string) *router {
	rt := &router{}
	for _, p := range patterns {
		method, pattern, _ := strings.Cut(p, " ")
		rt.add(&route{method: method, pattern: pattern})
	}
	return rt
}

// TestRouterLiteralBeatsVariable: the most literal pattern wins, segment by
// segment, whatever the registration order.
func TestRouterLiteralBeatsVariable(t *testing.T) {
	t.Parallel()
	patterns := []string{
		"GET /v3/{domain}/tags",
		"GET /v3/domains/{name}",
		"GET /v3/{domain}/{tag}",
		"GET /v3/lists/{list}/members/{member}",
		"GET /v3/lists/{list}/members/pages",
	}
	cases := []struct{ path, want string }{
		{"/v3/domains/tags", "/v3/domains/{name}"},
		{"/v3/example.com/tags", "/v3/{domain}/tags"},
		{"/v3/example.com/other", "/v3/{domain}/{tag}"},
		{"/v3/lists/l@example.com/members/pages", "/v3/lists/{list}/members/pages"},
		{"/v3/lists/l@example.com/members/m@example.com", "/v3/lists/{list}/members/{member}"},
	}
	rev := slices.Clone(patterns)
	slices.Reverse(rev)
	for _, order := range [][]string{patterns, rev} {
		rt := newTestRouter(order...)
		for _, c := range cases {
			segs, ok := splitPath(c.path)
			if !ok {
				t.Fatalf("splitPath(%q) failed", c.path)
			}
			r, _, _ := rt.match(http.MethodGet, segs)
			if r == nil || r.pattern != c.want {
				t.Errorf("registered %v: %s matched %v, want %s", order, c.path, r, c.want)
			}
		}
	}
}

// TestRouterDecodesSegments: segments are percent-decoded one by one and a
// '+' stays a '+' (mailgun-go does not escape addresses; mailgun.js does).
func TestRouterDecodesSegments(t *testing.T) {
	t.Parallel()
	rt := newTestRouter("GET /v3/lists/{list}/members/{member}", "DELETE /v3/{domain}/bounces/{address}")
	cases := []struct {
		method, escaped string
		want            map[string]string
	}{
		{"GET", "/v3/lists/dev@example.com/members/bob+tag@example.com", map[string]string{"list": "dev@example.com", "member": "bob+tag@example.com"}},
		{"GET", "/v3/lists/dev%40example.com/members/bob%2Btag%40example.com", map[string]string{"list": "dev@example.com", "member": "bob+tag@example.com"}},
		{"DELETE", "/v3/mg.example.com/bounces/a%20b+c%2Fd@example.com", map[string]string{"domain": "mg.example.com", "address": "a b+c/d@example.com"}},
		{"HEAD", "/v3/lists/a/members/b/", map[string]string{"list": "a", "member": "b"}},
	}
	for _, c := range cases {
		segs, ok := splitPath(c.escaped)
		if !ok {
			t.Fatalf("splitPath(%q) failed", c.escaped)
		}
		r, vars, _ := rt.match(c.method, segs)
		if r == nil || !reflect.DeepEqual(vars, c.want) {
			t.Errorf("%s %s: route %v vars %v, want %v", c.method, c.escaped, r, vars, c.want)
		}
	}
	if _, ok := splitPath("/v3/lists/%zz/members"); ok {
		t.Error("splitPath accepted an invalid escape")
	}
	segs, _ := splitPath("/v3//bounces/x")
	if r, _, _ := rt.match(http.MethodDelete, segs); r != nil {
		t.Errorf("an empty segment filled variable {domain}: %v", r.pattern)
	}
}

// TestRouterMethods: a path known under other methods reports them (405);
// an unknown path reports none (404); HEAD finds GET routes (and then the
// other methods are not needed).
func TestRouterMethods(t *testing.T) {
	t.Parallel()
	rt := newTestRouter("GET /v3/domains", "POST /v3/domains", "GET /v3/domains/{name}", "PUT /v3/domains/{name}")
	cases := []struct {
		method, path string
		found        bool
		allowed      []string
	}{
		{"PATCH", "/v3/domains", false, []string{"GET", "POST"}},
		{"DELETE", "/v3/domains/x.example.com", false, []string{"GET", "PUT"}},
		{"HEAD", "/v3/domains", true, nil},
		{"GET", "/v3/nothing/here/at/all", false, nil},
		{"GET", "/", false, nil},
	}
	for _, c := range cases {
		segs, _ := splitPath(c.path)
		r, _, allowed := rt.match(c.method, segs)
		sort.Strings(allowed)
		if (r != nil) != c.found || !reflect.DeepEqual(allowed, c.allowed) {
			t.Errorf("%s %s: found %v allowed %v, want %v %v", c.method, c.path, r != nil, allowed, c.found, c.allowed)
		}
	}
}

func TestRouterRefusesDuplicates(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("a duplicate route was accepted")
		}
	}()
	newTestRouter("GET /v3/domains/{name}", "GET /v3/domains/{name}")
}
