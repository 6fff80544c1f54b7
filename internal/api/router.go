package api

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
)

// route is one registered endpoint.
type route struct {
	method  string
	pattern string
	segs    []string // literal segments, or "{name}" for a variable
	access  auth.Access
	h       handlerFunc
}

// router matches versioned Mailgun paths. Go's ServeMux cannot hold both
// /v3/{domain}/messages and /v3/domains/{name} (neither is more specific),
// so matching is done here: literal segments win over variables, segment by
// segment, and segments are percent-decoded without turning '+' into a space
// (mailgun-go does not escape addresses in paths).
type router struct {
	byLen map[int][]*route
	all   []*route
}

func (rt *router) add(r *route) {
	if rt.byLen == nil {
		rt.byLen = map[int][]*route{}
	}
	r.segs = strings.Split(strings.Trim(r.pattern, "/"), "/")
	for _, existing := range rt.byLen[len(r.segs)] {
		if existing.method == r.method && existing.pattern == r.pattern {
			panic("api: duplicate route " + r.method + " " + r.pattern)
		}
	}
	rt.byLen[len(r.segs)] = append(rt.byLen[len(r.segs)], r)
	rt.all = append(rt.all, r)
	// Most literal first, so the first match is the most specific.
	rs := rt.byLen[len(r.segs)]
	sort.SliceStable(rs, func(i, j int) bool { return moreSpecific(rs[i], rs[j]) })
}

func moreSpecific(a, b *route) bool {
	for i := range a.segs {
		av, bv := isVar(a.segs[i]), isVar(b.segs[i])
		if av != bv {
			return !av
		}
	}
	return false
}

func isVar(s string) bool { return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") }

// splitPath returns the decoded segments of an escaped path.
func splitPath(escaped string) ([]string, bool) {
	p := strings.Trim(escaped, "/")
	if p == "" {
		return []string{""}, true
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		parts[i] = d
	}
	return parts, true
}

// match finds the route for method and segments, the most specific first.
// When there is none, allowed lists the methods the path has (405 rather
// than 404). It runs for every request: only the route found allocates its
// variables.
func (rt *router) match(method string, segs []string) (r *route, vars map[string]string, allowed []string) {
	cands := rt.byLen[len(segs)]
	for _, cand := range cands {
		if (cand.method == method || (method == http.MethodHead && cand.method == http.MethodGet)) && matchSegs(cand.segs, segs) {
			return cand, varsOf(cand.segs, segs), nil
		}
	}
	for _, cand := range cands {
		if matchSegs(cand.segs, segs) {
			allowed = append(allowed, cand.method)
		}
	}
	return nil, nil, allowed
}

// matchSegs reports whether segs fit pattern: equal literals, and a
// non-empty segment for each variable.
func matchSegs(pattern, segs []string) bool {
	for i, p := range pattern {
		if isVar(p) {
			if segs[i] == "" {
				return false
			}
		} else if p != segs[i] {
			return false
		}
	}
	return true
}

// varsOf names the segments that fit pattern's variables.
func varsOf(pattern, segs []string) map[string]string {
	var vars map[string]string
	for i, p := range pattern {
		if isVar(p) {
			if vars == nil {
				vars = make(map[string]string, 2)
			}
			vars[p[1:len(p)-1]] = segs[i]
		}
	}
	return vars
}
