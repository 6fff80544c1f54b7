package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// badCase is a request that must be refused with status and a JSON
// message: exactly message, or starting with it when prefix is set.
type badCase struct {
	name         string
	method, path string
	body         testutil.Body
	status       int
	message      string
	prefix       bool
}

func form(kv ...string) testutil.Body { return testutil.Form(pairs(kv...)) }

func pairs(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

const keep = "keep.example.com" // the domain that update cases try to change

// badInputCases are refused inputs of every kind the API decodes.
func badInputCases() []badCase {
	const post, put, get = http.MethodPost, http.MethodPut, http.MethodGet
	const bad = http.StatusBadRequest
	big := strings.Repeat("x", 2<<20) // over the test's 1 MiB limit
	tooLarge := "request size exceeds 52.4MiB limit"
	kindMsg := "expected `kind` param to be one of [domain user web] or absent"
	shortPassword := "Password is too short. It must be between 5 and 32 characters."
	cases := []badCase{
		// Encodings.
		{"multipart without final boundary", post, "/v3/domains", testutil.Raw("multipart/form-data; boundary=xyz",
			"--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nnew.example.com"), bad, "malformed multipart/form-data request", false},
		{"multipart without boundary", post, "/v3/domains", testutil.Raw("multipart/form-data", "name=new.example.com"), bad, "malformed multipart/form-data request", false},
		{"invalid escape in urlencoded body", post, "/v3/domains", testutil.Raw("application/x-www-form-urlencoded", "name=new%zz.example.com"), bad, "unable to parse request: invalid URL escape", false},
		{"invalid escape in query", post, "/v3/domains?name=new%zz.example.com", testutil.NoBody, bad, "unable to parse request: invalid URL escape", false},
		{"truncated JSON", post, "/v3/domains", testutil.JSON(`{"name": "new.example.com"`), bad, "request body is not valid JSON", true},
		{"JSON with a bad array", post, "/v3/domains", testutil.JSON(`[1, 2`), bad, "request body is not valid JSON", true},
		{"not gzip", post, "/v3/domains", testutil.Body{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Encoding": {"gzip"}}, Data: []byte("name=new.example.com")}, bad, "request body is not valid gzip", false},
		{"unsupported content type", post, "/v3/domains", testutil.Raw("text/xml", "<name>new.example.com</name>"), bad, `unsupported Content-Type "text/xml"`, true},
		{"oversized urlencoded", post, "/v3/domains", form("name", "new.example.com", "archive_to", big), http.StatusRequestEntityTooLarge, tooLarge, false},
		{"oversized multipart", post, "/v3/domains", testutil.Multipart(pairs("name", "new.example.com", "archive_to", big)), http.StatusRequestEntityTooLarge, tooLarge, false},
		{"oversized after gunzip", post, "/v3/domains", testutil.Gzip(form("name", "new.example.com", "archive_to", big)), http.StatusRequestEntityTooLarge, tooLarge, false},
		{"oversized key description", post, "/v1/keys", testutil.JSON(`{"role":"admin","description":"` + big + `"}`), http.StatusRequestEntityTooLarge, tooLarge, false},
		// Values.
		{"missing name", post, "/v3/domains", form("spam_action", "tag"), bad, "Missing parameter 'name'", false},
		{"existing domain", post, "/v3/domains", form("name", keep), bad, "Domain keep.example.com already exists", false},
		{"bad boolean", post, "/v3/domains", form("name", "new.example.com", "wildcard", "maybe"), bad, `'wildcard' parameter must be yes, no, true or false, not "maybe"`, false},
		{"bad boolean in JSON", post, "/v3/domains", testutil.JSON(`{"name":"new.example.com","require_tls":"sure"}`), bad, `'require_tls' parameter must be yes, no, true or false, not "sure"`, false},
		{"bad boolean on update", put, "/v3/domains/" + keep + "/connection", form("require_tls", "2"), bad, `'require_tls' parameter must be yes, no, true or false, not "2"`, false},
		{"non-numeric int", post, "/v3/domains", form("name", "new.example.com", "dkim_key_size", "big"), bad, `'dkim_key_size' parameter must be an integer, not "big"`, false},
		{"int out of range", post, "/v3/domains", form("name", "new.example.com", "dkim_key_size", "4096"), bad, "'dkim_key_size' parameter must be between 1024 and 2048", false},
		{"int between allowed values", post, "/v3/domains", form("name", "new.example.com", "dkim_key_size", "1536"), bad, "dkim_key_size must be 1024 or 2048", false},
		{"negative ttl on update", put, "/v3/domains/" + keep, form("message_ttl", "-1"), bad, "'message_ttl' parameter must be between 0 and 2147483647", false},
		{"limit zero", get, "/v3/domains?limit=0", testutil.NoBody, bad, "'limit' parameter must be between 1 and 1000", false},
		{"skip not a number", get, "/v3/domains?skip=ten", testutil.NoBody, bad, `'skip' parameter must be an integer, not "ten"`, false},
		{"bad state filter", get, "/v3/domains?state=gone", testutil.NoBody, bad, "state must be active, unverified or disabled", false},
		{"bad web_scheme", post, "/v3/domains", form("name", "new.example.com", "web_scheme", "ftp"), bad, `web_scheme must be http or https, not "ftp"`, false},
		{"bad web_scheme on update", put, "/v4/domains/" + keep, form("web_scheme", "gopher"), bad, `web_scheme must be http or https, not "gopher"`, false},
		{"bad spam_action", post, "/v3/domains", form("name", "new.example.com", "spam_action", "explode"), bad, `spam_action must be one of disabled, block or tag, not "explode"`, false},
		{"bad spam_action on update", put, "/v3/domains/" + keep, form("spam_action", "Block"), bad, `spam_action must be one of disabled, block or tag, not "Block"`, false},
		{"bad web_prefix", put, "/v3/domains/" + keep + "/web_prefix", form("web_prefix", "a.b"), bad, `web_prefix must be a single DNS label (letters, digits, hyphens), not "a.b"`, false},
		{"bad dkim_selector", put, "/v3/domains/" + keep + "/dkim_selector", form("dkim_selector", "-s1"), bad, `dkim_selector must be a single DNS label (letters, digits, hyphens), not "-s1"`, false},
		{"missing dkim_selector", put, "/v3/domains/" + keep + "/dkim_selector", testutil.NoBody, bad, "Missing mandatory parameter: dkim_selector", false},
		{"bad mailfrom_host", put, "/v3/domains/" + keep, form("mailfrom_host", "bounce"), bad, `mailfrom_host "bounce" is not a valid host name`, false},
		{"short smtp_password", post, "/v3/domains", form("name", "new.example.com", "smtp_password", "abcd"), bad, shortPassword, false},
		{"long smtp_password", post, "/v3/domains", form("name", "new.example.com", "smtp_password", strings.Repeat("p", 33)), bad, shortPassword, false},
		// Keys.
		{"unknown kind", post, "/v1/keys", testutil.Multipart(pairs("role", "admin", "kind", "robot")), bad, kindMsg, false},
		{"unknown kind filter", get, "/v1/keys?kind=robot", testutil.NoBody, bad, kindMsg, false},
		{"missing role", post, "/v1/keys", form("description", "x"), bad, "Missing mandatory parameter: role", false},
		{"unknown role", post, "/v1/keys", form("role", "wizard"), bad, "expected `role` param to be one of [admin basic sending developer support]", false},
		{"sending key without domain", post, "/v1/keys", form("role", "sending"), bad, "Missing mandatory parameter: domain_name", false},
		{"user key with domain", post, "/v1/keys", form("role", "admin", "domain_name", keep), bad, "domain_name is only for keys of kind `domain`", false},
		{"domain kind with admin role", post, "/v1/keys", form("role", "admin", "kind", "domain", "domain_name", keep), bad, "a key of kind `domain` must have role `sending`, and role `sending` needs kind `domain`", false},
		{"zero expiration", post, "/v1/keys", form("role", "admin", "expiration", "0"), bad, "'expiration' parameter must be between 1 and 315360000", false},
		{"bad expiration", post, "/v1/keys", form("role", "admin", "expiration", "1h"), bad, `'expiration' parameter must be an integer, not "1h"`, false},
		{"long description", post, "/v1/keys", form("role", "admin", "description", strings.Repeat("d", 1025)), bad, "description is longer than 1024 characters", false},
		{"delete the primary key", http.MethodDelete, "/v1/keys/{primary}", testutil.NoBody, bad, "the primary key cannot be deleted; rotate it instead", false},
	}
	for _, name := range []string{"not a domain", "-bad.example.com", "bad-.example.com", "localhost", "192.168.0.1",
		"a..example.com", "under_score.example.com", "xn--ü.example.com", strings.Repeat("a", 64) + ".example.com"} {
		cases = append(cases, badCase{"bad domain name " + name, post, "/v3/domains", form("name", name), bad, `"` + name + `" is not a valid domain name`, false})
	}
	return cases
}

// TestBadInputIsRefusedAndChangesNothing sends malformed and invalid
// requests; each gets a clear 400 (or 413) with a JSON message, and neither
// the domains nor the keys change.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) { c.MaxRequestBytes = 1 << 20 }})
	createDomain(t, ta, keep, "smtp_password", "keep-password")
	sendingKey(t, ta, keep)
	primary := primaryKeyID(t, ta)
	snapshot := func() string {
		var b strings.Builder
		for _, path := range []string{"/v3/domains", "/v3/domains/" + keep, "/v3/domains/" + keep + "/connection", "/v1/keys"} {
			b.WriteString(ta.Call(t, http.MethodGet, path, ta.Key, testutil.NoBody).Want(t, http.StatusOK).Body)
		}
		return b.String()
	}
	before := snapshot()

	t.Run("cases", func(t *testing.T) {
		for _, c := range badInputCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				r := ta.Call(t, c.method, strings.Replace(c.path, "{primary}", primary, 1), ta.Key, c.body)
				if !c.prefix {
					r.WantMessage(t, c.status, c.message)
					return
				}
				var body map[string]string
				r.Want(t, c.status).Decode(t, &body)
				if len(body) != 1 || !strings.HasPrefix(body["message"], c.message) {
					t.Errorf("%s, want a message starting with %q", r, c.message)
				}
			})
		}
	})

	if after := snapshot(); after != before {
		t.Errorf("refused requests changed the data:\nbefore %s\nafter  %s", before, after)
	}
	if n := bytes.Count([]byte(before), []byte(`"kind":"domain"`)); n != 1 {
		t.Errorf("snapshot lists %d sending keys, want 1", n)
	}
}

// primaryKeyID returns the id of the primary key, the first key listed.
func primaryKeyID(t *testing.T, ta *testutil.TestApp) string {
	t.Helper()
	var list struct {
		Items []struct{ ID, Description string }
	}
	ta.Call(t, http.MethodGet, "/v1/keys?kind=user", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &list)
	if len(list.Items) == 0 || list.Items[0].Description != "Primary account API key" {
		t.Fatalf("first key is not the primary key: %+v", list.Items)
	}
	return list.Items[0].ID
}
