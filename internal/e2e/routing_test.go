package e2e

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/testutil"
)

// TestRoutingOverHTTP checks what the router answers on a real listener:
// JSON 404 for unknown paths, 405 with Allow for known paths, and '+'/'@'
// in path segments kept whether escaped or not.
func TestRoutingOverHTTP(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	createDomain(t, ta, "mg.example.com")

	t.Run("unknown path", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"", ta.Key} {
			ta.Call(t, http.MethodGet, "/v9/nothing", key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "Not Found: no endpoint GET /v9/nothing")
			ta.Call(t, http.MethodPost, "/", key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "Not Found: no endpoint POST /")
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		t.Parallel()
		cases := []struct{ method, path, allow string }{
			{http.MethodPatch, "/v3/domains", "GET, POST"},
			{http.MethodDelete, "/v1/keys", "GET, POST"},
			{http.MethodGet, "/v3/mg.example.com/messages", "POST"},
			{http.MethodPost, "/v4/domains/mg.example.com", "DELETE, GET, PUT"},
			{http.MethodGet, "/v1/keys/some-id", "DELETE"},
		}
		for _, c := range cases {
			r := ta.Call(t, c.method, c.path, "", testutil.NoBody)
			r.WantMessage(t, http.StatusMethodNotAllowed, "Method "+c.method+" is not allowed on "+c.path)
			allow := strings.Split(r.Header.Get("Allow"), ", ")
			sort.Strings(allow)
			if strings.Join(allow, ", ") != c.allow {
				t.Errorf("%s: Allow %q, want %q", r.Request, r.Header.Get("Allow"), c.allow)
			}
		}
	})

	t.Run("HEAD and trailing slash", func(t *testing.T) {
		t.Parallel()
		if r := ta.Call(t, http.MethodHead, "/v3/domains", ta.Key, testutil.NoBody).Want(t, http.StatusOK); r.Body != "" {
			t.Errorf("HEAD wrote a body: %q", r.Body)
		}
		ta.Call(t, http.MethodGet, "/v3/domains/mg.example.com/", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
		ta.Call(t, http.MethodGet, "/v3/domains/MG.Example.COM", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	})

	t.Run("plus and at in paths", func(t *testing.T) {
		t.Parallel()
		// The send routes echo the {domain} they could not find, which shows
		// how the segment was decoded.
		for _, path := range []string{"/v3/a+b@c.example.com/messages", "/v3/a%2Bb%40c.example.com/messages", "/v3/a%2bb@c%2Eexample.com/messages"} {
			ta.Call(t, http.MethodPost, path, ta.Key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "Domain not found: a+b@c.example.com")
		}
		ta.Call(t, http.MethodPost, "/v3/a%20b.example.com/messages.mime", ta.Key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "Domain not found: a b.example.com")
		// Escaped dots and case still name the same domain.
		r := ta.Call(t, http.MethodGet, "/v3/domains/mg%2Eexample%2ecom", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
		if !strings.Contains(r.Body, `"name":"mg.example.com"`) {
			t.Errorf("%s", r)
		}
	})
}
