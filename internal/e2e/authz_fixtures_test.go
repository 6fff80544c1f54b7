package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// routeFixtures creates what the template and list routes of the
// authorization matrix name, so the primary key's DELETE finds something
// to delete, and returns the path values for them: a template named after
// the domain with version "t", and a list list@<domain> with member
// m@<domain>.
func routeFixtures(t *testing.T, ta *testutil.TestApp, pattern, domain string) map[string]string {
	t.Helper()
	switch {
	case strings.Contains(pattern, "/templates"):
		ta.Call(t, "POST", "/v3/"+domain+"/templates", ta.Key, testutil.Form(url.Values{
			"name": {domain}, "template": {"<p>{{x}}</p>"}, "tag": {"t"}})).Want(t, 200)
		return map[string]string{"tag": "t", "new": "t2"}
	case strings.HasPrefix(pattern, "/v3/lists/{address}"):
		list := "list@" + domain
		ta.Call(t, "POST", "/v3/lists", ta.Key, testutil.Form(url.Values{"address": {list}})).Want(t, 200)
		ta.Call(t, "POST", "/v3/lists/"+list+"/members", ta.Key, testutil.Form(url.Values{"address": {"m@" + domain}})).Want(t, 200)
		return map[string]string{"address": list, "member": "m@" + domain}
	case strings.HasPrefix(pattern, "/v3/ip_pools/{pool}"):
		var created mgapi.IPPoolCreated
		ta.Call(t, "POST", "/v3/ip_pools", ta.Key, testutil.Form(url.Values{"name": {domain}, "ips": {matrixIP}})).
			Want(t, 200).Decode(t, &created)
		return map[string]string{"pool": created.PoolID}
	case pattern == "/v3/domains/{domain}/ips/{ip}" || pattern == "/v3/domains/{domain}/pool/{ip}":
		ta.Call(t, "POST", "/v3/domains/"+domain+"/ips", ta.Key, testutil.Form(url.Values{"ip": {matrixIP}})).Want(t, 200)
	}
	return nil
}

// matrixIP is the source address of the authorization matrix's node.
const matrixIP = "127.0.0.2"
