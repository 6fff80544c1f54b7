package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

var isoNoZone = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)

// keyFields are the members of a key object (docs/mailgun-contract.md §1.3); expires_at
// only when the key expires, secret only in the create response.
var keyFields = []string{"created_at", "description", "domain_name", "id", "is_disabled", "kind", "requestor", "role", "updated_at", "user_name"}

// checkKeyObject checks the wire shape of one key object and returns it.
func checkKeyObject(t *testing.T, raw json.RawMessage, kind, role string, domain any, extra ...string) map[string]any {
	t.Helper()
	var k map[string]any
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatalf("key object %s: %v", raw, err)
	}
	names := make([]string, 0, len(k))
	for name := range k {
		names = append(names, name)
	}
	sort.Strings(names)
	wantNames := append(append([]string(nil), keyFields...), extra...)
	sort.Strings(wantNames)
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Errorf("key members %v, want %v", names, wantNames)
	}
	if k["kind"] != kind || k["role"] != role || k["domain_name"] != domain || k["is_disabled"] != false {
		t.Errorf("key = %s, want kind %s role %s domain_name %v", raw, kind, role, domain)
	}
	for _, f := range []string{"created_at", "updated_at", "expires_at"} {
		if v, ok := k[f]; ok && !isoNoZone.MatchString(v.(string)) {
			t.Errorf("%s = %q, want 2006-01-02T15:04:05", f, v)
		}
	}
	return k
}

// postKey creates a key and checks the create envelope of docs/mailgun-contract.md §1.3.
func postKey(t *testing.T, ta *testutil.TestApp, body testutil.Body, kind, role string, domain any, extra ...string) (id, secret string) {
	t.Helper()
	r := ta.Call(t, http.MethodPost, "/v1/keys", ta.Key, body).Want(t, http.StatusOK)
	var env map[string]json.RawMessage
	r.Decode(t, &env)
	if len(env) != 2 || string(env["message"]) != `"great success"` {
		t.Errorf("create envelope %s", r)
	}
	k := checkKeyObject(t, env["key"], kind, role, domain, append(extra, "secret")...)
	id, _ = k["id"].(string)
	secret, _ = k["secret"].(string)
	if id == "" || len(secret) < 32 || !strings.HasSuffix(secret, id) {
		t.Fatalf("key id %q secret %q", id, secret)
	}
	return id, secret
}

func listKeys(t *testing.T, ta *testutil.TestApp, query string) (ids []string, body string) {
	t.Helper()
	r := ta.Call(t, http.MethodGet, "/v1/keys"+query, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	var list struct {
		TotalCount int               `json:"total_count"`
		Items      []json.RawMessage `json:"items"`
	}
	r.Decode(t, &list)
	if list.TotalCount != len(list.Items) {
		t.Errorf("%s: total_count %d with %d items", r.Request, list.TotalCount, len(list.Items))
	}
	for _, raw := range list.Items {
		var k struct{ ID string }
		_ = json.Unmarshal(raw, &k)
		ids = append(ids, k.ID)
	}
	sort.Strings(ids)
	return ids, r.Body
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// TestKeysAPI drives /v1/keys over HTTP on both store implementations.
func TestKeysAPI(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			testKeysAPI(t, testutil.StartApp(t, testutil.AppOptions{Postgres: pg}))
		})
	}
}

func testKeysAPI(t *testing.T, ta *testutil.TestApp) {
	const domain = "mg.example.com"
	createDomain(t, ta, domain)
	primary := primaryKeyID(t, ta)

	adminID, adminSecret := postKey(t, ta, testutil.Multipart(url.Values{"role": {"admin"}, "description": {"deploy bot"}, "email": {"jane@example.com"}, "user_name": {"Jane"}}), "user", "admin", nil)
	sendID, sendSecret := postKey(t, ta, testutil.Form(url.Values{"role": {"sending"}, "domain_name": {"MG.Example.com"}}), "domain", "sending", domain)
	basicID, _ := postKey(t, ta, testutil.JSON(`{"role":"basic","expiration":3600}`), "user", "basic", nil, "expires_at")

	// Secrets are shown once: no listing contains them.
	all, body := listKeys(t, ta, "")
	for _, s := range []string{adminSecret, sendSecret, ta.Key, `"secret"`} {
		if strings.Contains(body, s) {
			t.Errorf("GET /v1/keys shows %q", s)
		}
	}
	if want := sorted(primary, adminID, sendID, basicID); strings.Join(all, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", all, want)
	}
	var one struct{ Items []json.RawMessage }
	_ = json.Unmarshal([]byte(body), &one)
	for _, raw := range one.Items {
		if strings.Contains(string(raw), adminID) {
			k := checkKeyObject(t, raw, "user", "admin", nil)
			if k["description"] != "deploy bot" || k["requestor"] != "jane@example.com" || k["user_name"] != "Jane" {
				t.Errorf("admin key listed as %s", raw)
			}
		}
	}

	// Filters.
	for query, want := range map[string][]string{
		"?kind=domain":                     {sendID},
		"?kind=user":                       sorted(primary, adminID, basicID),
		"?kind=web":                        nil,
		"?domain_name=mg.example.com":      {sendID},
		"?domain_name=MG.EXAMPLE.COM":      {sendID},
		"?kind=user&domain_name=" + domain: nil,
		"?domain_name=other.example.com":   nil,
	} {
		if got, _ := listKeys(t, ta, query); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("GET /v1/keys%s = %v, want %v", query, got, want)
		}
	}

	// A sending key sends for its domain only and manages nothing.
	mg := mailgun.NewMailgun(domain, sendSecret)
	mg.SetAPIBase(ta.URL + "/v3")
	ctx := context.Background()
	it := mg.ListDomains(nil)
	var page []mailgun.Domain
	if it.First(ctx, &page) || mailgun.GetStatusFromErr(it.Err()) != http.StatusUnauthorized {
		t.Errorf("sending key listed domains: %v", it.Err())
	}
	if _, err := mg.GetDomain(ctx, domain); mailgun.GetStatusFromErr(err) != http.StatusUnauthorized {
		t.Errorf("sending key read its domain: %v", err)
	}
	msg := mailgun.NewMessage("me@"+domain, "hi", "hello", "you@example.net")
	if _, id, err := mg.Send(ctx, msg); err != nil || id == "" {
		t.Errorf("send with the sending key: id %q, %v", id, err)
	}
	ta.Call(t, http.MethodGet, "/v1/keys", sendSecret, testutil.NoBody).WantMessage(t, http.StatusUnauthorized,
		"Invalid private key: a sending key may only send mail for its domain "+domain+" (POST /v3/"+domain+
			"/messages and /messages.mime), not use GET /v1/keys; use the primary key or an admin key")

	// Refusals.
	ta.Call(t, http.MethodPost, "/v1/keys", ta.Key, testutil.Form(url.Values{"role": {"sending"}, "domain_name": {"unknown.example.com"}})).
		WantMessage(t, http.StatusNotFound, "Domain not found: unknown.example.com")
	ta.Call(t, http.MethodDelete, "/v1/keys/00000000-00000000", ta.Key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "no key matching id")
	ta.Call(t, http.MethodDelete, "/v1/keys/"+primary, ta.Key, testutil.NoBody).WantMessage(t, http.StatusBadRequest, "the primary key cannot be deleted; rotate it instead")
	ta.Call(t, http.MethodDelete, "/v1/keys/"+primary, adminSecret, testutil.NoBody).Want(t, http.StatusBadRequest)

	// Revocation takes effect on the next request.
	ta.Call(t, http.MethodGet, "/v3/domains", adminSecret, testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodDelete, "/v1/keys/"+adminID, ta.Key, testutil.NoBody).WantMessage(t, http.StatusOK, "key deleted")
	ta.Call(t, http.MethodGet, "/v3/domains", adminSecret, testutil.NoBody).WantMessage(t, http.StatusUnauthorized, "Invalid private key")
	ta.Call(t, http.MethodDelete, "/v1/keys/"+adminID, ta.Key, testutil.NoBody).WantMessage(t, http.StatusNotFound, "no key matching id")

	// Deleting a domain deletes its sending keys, even if the name comes back.
	ta.Call(t, http.MethodDelete, "/v3/domains/"+domain, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	createDomain(t, ta, domain)
	if got, _ := listKeys(t, ta, "?kind=domain"); len(got) != 0 {
		t.Errorf("sending keys left after the domain was deleted: %v", got)
	}
	if _, _, err := mg.Send(ctx, msg); mailgun.GetStatusFromErr(err) != http.StatusUnauthorized {
		t.Errorf("send with the deleted domain's key: %v, want 401", err)
	}
	if got, _ := listKeys(t, ta, ""); strings.Join(got, ",") != strings.Join(sorted(primary, basicID), ",") {
		t.Errorf("keys at the end %v, want the primary and basic keys", got)
	}
	ta.Call(t, http.MethodGet, "/v3/domains", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
}

// TestKeyExpiration: a key with an expiration stops authenticating when it
// expires; web keys live at most a day.
func TestKeyExpiration(t *testing.T) {
	t.Parallel()
	clock := testutil.NewClock(time.Date(2026, time.January, 23, 10, 16, 0, 0, time.UTC))
	ta := testutil.StartApp(t, testutil.AppOptions{Seams: app.Seams{Now: clock.Now}})
	short := createKey(t, ta, url.Values{"role": {"developer"}, "expiration": {"60"}})
	web := createKey(t, ta, url.Values{"role": {"admin"}, "kind": {"web"}})
	for _, c := range []struct {
		got  *mgapi.ISOTime
		want string
	}{{short.ExpiresAt, "2026-01-23T10:17:00"}, {web.ExpiresAt, "2026-01-24T10:16:00"}} {
		if c.got == nil || time.Time(*c.got).Format(mgapi.ISOLayout) != c.want {
			t.Errorf("expires_at = %v, want %s", c.got, c.want)
		}
	}
	clock.Advance(59 * time.Second)
	ta.Call(t, http.MethodGet, "/v3/domains", short.Secret, testutil.NoBody).Want(t, http.StatusOK)
	clock.Advance(time.Second)
	ta.Call(t, http.MethodGet, "/v3/domains", short.Secret, testutil.NoBody).WantMessage(t, http.StatusUnauthorized, "Invalid private key")
	ta.Call(t, http.MethodGet, "/v3/domains", web.Secret, testutil.NoBody).Want(t, http.StatusOK)
	clock.Advance(24 * time.Hour)
	ta.Call(t, http.MethodGet, "/v3/domains", web.Secret, testutil.NoBody).Want(t, http.StatusUnauthorized)
	ta.Call(t, http.MethodGet, "/v3/domains", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
}
