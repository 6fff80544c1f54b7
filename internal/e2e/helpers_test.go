package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// createDomain creates name through the API with the primary key; extra
// holds further create fields as name/value pairs.
func createDomain(t testing.TB, ta *testutil.TestApp, name string, extra ...string) {
	t.Helper()
	v := url.Values{"name": {name}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Add(extra[i], extra[i+1])
	}
	ta.Call(t, http.MethodPost, "/v3/domains", ta.Key, testutil.Form(v)).Want(t, http.StatusOK)
}

// createKey creates a key through POST /v1/keys with the primary key and
// returns it with its secret.
func createKey(t *testing.T, ta *testutil.TestApp, fields url.Values) mgapi.Key {
	t.Helper()
	var out mgapi.KeyCreated
	ta.Call(t, http.MethodPost, "/v1/keys", ta.Key, testutil.Form(fields)).Want(t, http.StatusOK).Decode(t, &out)
	if out.Key.ID == "" || out.Key.Secret == "" {
		t.Fatalf("created key without id or secret: %+v", out)
	}
	return out.Key
}

// sendingKey creates a sending key of domain.
func sendingKey(t *testing.T, ta *testutil.TestApp, domain string) mgapi.Key {
	t.Helper()
	return createKey(t, ta, url.Values{"role": {"sending"}, "domain_name": {domain}})
}

// roleKey creates a user key with role.
func roleKey(t *testing.T, ta *testutil.TestApp, role string) mgapi.Key {
	t.Helper()
	return createKey(t, ta, url.Values{"role": {role}})
}
