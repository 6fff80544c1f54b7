package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

var createdKey = regexp.MustCompile(`^created key (\S+) \(kind (\w+), role (\w+)(, domain (\S+))?\)\n\n  (\S+)\n`)

// cliCreateKey runs `salvo keys create` and returns the new key's id and secret.
func cliCreateKey(t *testing.T, getenv func(string) string, args ...string) (id, secret string) {
	t.Helper()
	code, out, errOut := runSalvo(getenv, append([]string{"keys", "create"}, args...)...)
	m := createdKey.FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.HasPrefix(errOut, "salvo keys create: global store ") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("keys create %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
	}
	return m[1], m[6]
}

// cliFail runs a keys command that must fail with code and say want.
func cliFail(t *testing.T, getenv func(string) string, code int, want string, args ...string) {
	t.Helper()
	got, out, errOut := runSalvo(getenv, append([]string{"keys"}, args...)...)
	if got != code || !strings.Contains(errOut, want) || strings.Contains(out, "created key") {
		t.Errorf("keys %v: exit %d, stdout %q, stderr %q; want %d and %q", args, got, out, errOut, code, want)
	}
}

// TestKeysCommands manages keys with `salvo keys` in the data dir of a
// running node and checks each change through that node's API.
func TestKeysCommands(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	getenv := env("SALVO_DATA_DIR", ta.Cfg.DataDir)
	ta.Call(t, http.MethodPost, "/v3/domains", ta.Key, testutil.Form(url.Values{"name": {"mg.example.com"}})).Want(t, http.StatusOK)

	adminID, admin := cliCreateKey(t, getenv, "--role", "admin", "--description", "from the CLI")
	ta.Call(t, http.MethodGet, "/v3/domains", admin, testutil.NoBody).Want(t, http.StatusOK)
	sendID, sending := cliCreateKey(t, getenv, "--role", "sending", "--domain", "MG.example.com")
	ta.Call(t, http.MethodGet, "/v3/domains", sending, testutil.NoBody).Want(t, http.StatusUnauthorized)
	ta.Call(t, http.MethodPost, "/v3/mg.example.com/messages", sending, testutil.Form(url.Values{
		"from": {"me@mg.example.com"}, "to": {"you@example.net"}, "subject": {"hi"}, "text": {"hello"}})).Want(t, http.StatusOK)
	if _, out, _ := runSalvo(getenv, "keys", "create", "--role", "basic", "--expiration", "60"); !strings.Contains(out, "(kind user, role basic)") {
		t.Errorf("basic key: %q", out)
	}

	// list, as a table and as JSON.
	code, out, _ := runSalvo(getenv, "keys", "list")
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "(primary)") ||
		!regexp.MustCompile(adminID+`\s+user\s+admin\s+-\s+\S+\s+never\s+from the CLI\n`).MatchString(out) ||
		!regexp.MustCompile(sendID+`\s+domain\s+sending\s+mg\.example\.com\s`).MatchString(out) {
		t.Errorf("keys list: exit %d\n%s", code, out)
	}
	code, out, _ = runSalvo(getenv, "keys", "list", "--json", "--kind", "domain")
	var list mgapi.KeyList
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || list.TotalCount != 1 || list.Items[0].ID != sendID ||
		list.Items[0].Requestor != "salvo keys" || *list.Items[0].DomainName != "mg.example.com" {
		t.Errorf("keys list --json --kind domain: exit %d, %v\n%s", code, err, out)
	}
	if _, out, _ = runSalvo(getenv, "keys", "list", "--domain", "mg.example.com"); strings.Contains(out, adminID) || !strings.Contains(out, sendID) {
		t.Errorf("keys list --domain:\n%s", out)
	}
	for _, s := range []string{admin, sending, ta.Key} {
		if _, out, _ := runSalvo(getenv, "keys", "list", "--json"); strings.Contains(out, s) {
			t.Error("keys list shows a secret")
		}
	}

	// revoke, effective at once on the running node.
	if code, out, _ := runSalvo(getenv, "keys", "revoke", adminID); code != 0 || out != "key "+adminID+" revoked\n" {
		t.Errorf("keys revoke: exit %d, %q", code, out)
	}
	ta.Call(t, http.MethodGet, "/v3/domains", admin, testutil.NoBody).WantMessage(t, http.StatusUnauthorized, "Invalid private key")

	cliFail(t, getenv, 1, "salvo keys: no key matching id", "revoke", adminID)
	cliFail(t, getenv, 1, "the primary key cannot be deleted", "revoke", primaryID(t, getenv))
	cliFail(t, getenv, 2, "give exactly one KEY_ID", "revoke")
	cliFail(t, getenv, 1, "salvo keys: Domain not found: unknown.example.com", "create", "--role", "sending", "--domain", "unknown.example.com")
	cliFail(t, getenv, 1, "salvo keys: missing --role (admin, developer, basic, support or sending)", "create")
	cliFail(t, getenv, 1, "salvo keys: a sending key needs --domain NAME", "create", "--role", "sending")
	cliFail(t, getenv, 1, "expected --kind to be one of [domain user web] or absent", "list", "--kind", "robot")
	cliFail(t, env("SALVO_DATA_DIR", filepath.Join(t.TempDir(), "empty")), 1, `no Salvo store in `, "list")
	if code, out, _ := runSalvo(getenv, "keys"); code != 2 || !strings.Contains(out, "salvo keys revoke KEY_ID") {
		t.Errorf("keys without a command: exit %d, %q", code, out)
	}
}

func primaryID(t *testing.T, getenv func(string) string) string {
	t.Helper()
	_, out, _ := runSalvo(getenv, "keys", "list", "--json", "--kind", "user")
	var list mgapi.KeyList
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) == 0 || list.Items[0].Description != "Primary account API key" {
		t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	return list.Items[0].ID
}
