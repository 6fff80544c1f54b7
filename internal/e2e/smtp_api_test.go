package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// sdkStatus is the HTTP status of a mailgun-go error (0 if none).
func sdkStatus(err error) int {
	if err == nil {
		return 0
	}
	return mailgun.GetStatusFromErr(err)
}

// listCredentials drains the SDK's credentials iterator.
func listCredentials(t *testing.T, mg *mailgun.MailgunImpl, limit int) []string {
	t.Helper()
	it := mg.ListCredentials(&mailgun.ListOptions{Limit: limit})
	var out []string
	var page []mailgun.Credential
	for it.Next(context.Background(), &page) {
		for _, c := range page {
			if c.CreatedAt.IsZero() {
				t.Errorf("credential %s has no created_at", c.Login)
			}
			out = append(out, c.Login)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	return out
}

// TestCredentialsThroughSDK: docs/mailgun-contract.md §12.1 with mailgun-go: create by
// local part or full address, change a password, delete one, delete all
// but postmaster; passwords are stored as bcrypt hashes only.
func TestCredentialsThroughSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	const d = "creds.example.com"
	createDomain(t, ta, d, "smtp_password", "postmaster-pw")
	mg := mailgun.NewMailgun(d, ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")

	if err := mg.CreateCredential(ctx, "alice", "alice-secret"); err != nil {
		t.Fatalf("CreateCredential alice: %v", err)
	}
	if err := mg.CreateCredential(ctx, "Bob@Creds.Example.com", "bob-secret"); err != nil {
		t.Fatalf("CreateCredential bob: %v", err)
	}
	for _, bad := range []struct{ login, password, want string }{
		{"carol", "1234", "password should be in range 5-32 characters"},
		{"carol", strings.Repeat("x", 33), "password should be in range 5-32 characters"},
		{"carol@other.example.com", "carol-secret", "is not an address of the domain"},
		{"ca rol", "carol-secret", "is not a valid mailbox name"},
		{"alice", "another-pw", "Credentials already exist"},
	} {
		err := mg.CreateCredential(ctx, bad.login, bad.password)
		if sdkStatus(err) != http.StatusBadRequest || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("CreateCredential(%q, %q) = %v, want 400 %q", bad.login, bad.password, err, bad.want)
		}
	}
	want := []string{"alice@" + d, "bob@" + d, "postmaster@" + d}
	if got := listCredentials(t, mg, 2); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ListCredentials = %v, want %v", got, want)
	}
	stored, err := ta.Regional.Credential(ctx, "alice@"+d)
	if err != nil || bcrypt.CompareHashAndPassword(stored.Hash, []byte("alice-secret")) != nil || strings.Contains(string(stored.Hash), "alice-secret") {
		t.Errorf("alice's stored hash %q, %v: want a bcrypt hash of her password", stored.Hash, err)
	}

	if err := mg.ChangeCredentialPassword(ctx, "alice", "alice-new-pw"); err != nil {
		t.Fatalf("ChangeCredentialPassword: %v", err)
	}
	if _, err := ta.Credentials.Verify(ctx, "alice@"+d, "alice-new-pw"); err != nil {
		t.Errorf("the new password does not verify: %v", err)
	}
	if _, err := ta.Credentials.Verify(ctx, "alice@"+d, "alice-secret"); err == nil {
		t.Errorf("the old password still verifies")
	}
	if err := mg.ChangeCredentialPassword(ctx, "nobody", "whatever-pw"); sdkStatus(err) != http.StatusNotFound {
		t.Errorf("ChangeCredentialPassword of an unknown login = %v, want 404", err)
	}
	if err := mg.DeleteCredential(ctx, "postmaster"); sdkStatus(err) != http.StatusBadRequest ||
		!strings.Contains(err.Error(), "Cannot delete system mailbox: postmaster@"+d) {
		t.Errorf("DeleteCredential(postmaster) = %v, want 400 Cannot delete system mailbox", err)
	}
	r := ta.Call(t, http.MethodDelete, "/v3/domains/"+d+"/credentials/bob@"+d, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	var del mgapi.CredentialDeleted
	r.Decode(t, &del)
	if del.Message != "Credentials have been deleted" || del.Spec != "bob@"+d {
		t.Errorf("DELETE bob = %s", r.Body)
	}
	if err := mg.DeleteCredential(ctx, "bob"); sdkStatus(err) != http.StatusNotFound {
		t.Errorf("second DeleteCredential(bob) = %v, want 404", err)
	}
	testGeneratedCredentials(t, ta, d)
}

// testGeneratedCredentials: several logins in one request without a
// password get generated ones, returned once; DELETE all keeps postmaster.
func testGeneratedCredentials(t *testing.T, ta *testutil.TestApp, d string) {
	ctx := context.Background()
	r := ta.Call(t, http.MethodPost, "/v3/domains/"+d+"/credentials", ta.Key,
		testutil.Form(url.Values{"login": {"gen1", "gen2@" + d}})).Want(t, http.StatusOK)
	var created mgapi.CredentialsCreated
	r.Decode(t, &created)
	if created.Message != "Created 2 credentials pair(s)" || len(created.Credentials) != 2 || created.Note == "" {
		t.Fatalf("create with generated passwords = %s", r.Body)
	}
	for login, pw := range created.Credentials {
		if len(pw) < 5 || len(pw) > 32 {
			t.Errorf("generated password for %s has %d characters", login, len(pw))
		}
		if _, err := ta.Credentials.Verify(ctx, login, pw); err != nil {
			t.Errorf("generated password of %s does not verify: %v", login, err)
		}
	}
	ta.Call(t, http.MethodPost, "/v3/domains/"+d+"/credentials", ta.Key, testutil.Form(url.Values{"password": {"abcdef"}})).
		WantMessage(t, http.StatusBadRequest, "Parameter 'login' is missing")
	ta.Call(t, http.MethodGet, "/v3/domains/"+d+"/credentials?limit=1001", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusBadRequest, "Limit parameter can't be larger than 1000")
	r = ta.Call(t, http.MethodDelete, "/v3/domains/"+d+"/credentials", ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	var all mgapi.CredentialsDeleted
	r.Decode(t, &all)
	if all.Message != "All domain credentials have been deleted" || all.Count != 3 { // alice, gen1, gen2
		t.Errorf("DELETE all = %s, want count 3", r.Body)
	}
	var page mgapi.CredentialsPage
	ta.Call(t, http.MethodGet, "/v3/domains/"+d+"/credentials", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &page)
	if page.TotalCount != 1 || len(page.Items) != 1 || page.Items[0].Login != "postmaster@"+d || page.Items[0].Mailbox != "postmaster@"+d {
		t.Errorf("after DELETE all: %+v, want only postmaster", page)
	}
	ta.Call(t, http.MethodGet, "/v3/domains/nowhere.example.com/credentials", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusNotFound, "Domain not found: nowhere.example.com")
}

var routeID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestRoutesThroughSDK: docs/mailgun-contract.md §6.1 with mailgun-go: create, get, list,
// update, delete; /v3/routes/match; invalid input is a 400 that says where.
func TestRoutesThroughSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	mg := mailgun.NewMailgun("routes.example.com", ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")

	sample, err := mg.CreateRoute(ctx, mailgun.Route{Priority: 1, Description: "Sample route",
		Expression: `match_recipient(".*@samples.mailgun.org")`, Actions: []string{`forward("http://myhost.com/messages/")`, "stop()"}})
	if err != nil {
		t.Fatalf("CreateRoute: %v", err)
	}
	if !routeID.MatchString(sample.Id) || sample.CreatedAt.IsZero() || sample.Priority != 1 || len(sample.Actions) != 2 {
		t.Fatalf("created route %+v", sample)
	}
	catch, err := mg.CreateRoute(ctx, mailgun.Route{Priority: 0, Expression: "catch_all()", Actions: []string{`store()`}})
	if err != nil {
		t.Fatalf("CreateRoute catch_all: %v", err)
	}
	got, err := mg.GetRoute(ctx, sample.Id)
	if err != nil || got.Expression != sample.Expression || got.Description != "Sample route" {
		t.Fatalf("GetRoute = %+v, %v", got, err)
	}
	if _, err := mg.GetRoute(ctx, "000000000000000000000000"); sdkStatus(err) != http.StatusNotFound {
		t.Errorf("GetRoute of an unknown id = %v, want 404", err)
	}
	var ids []string
	it := mg.ListRoutes(&mailgun.ListOptions{Limit: 1})
	var page []mailgun.Route
	for it.Next(ctx, &page) {
		for _, r := range page {
			ids = append(ids, r.Id)
		}
	}
	if it.Err() != nil || strings.Join(ids, ",") != catch.Id+","+sample.Id {
		t.Errorf("ListRoutes = %v, %v; want the catch-all (priority 0) then the sample", ids, it.Err())
	}

	upd, err := mg.UpdateRoute(ctx, sample.Id, mailgun.Route{Priority: 5, Actions: []string{`forward("https://h.example/\1")`}})
	if err != nil || upd.Id != sample.Id || upd.Priority != 5 || len(upd.Actions) != 1 || upd.Expression != sample.Expression {
		t.Fatalf("UpdateRoute = %+v, %v", upd, err)
	}
	testRouteMatch(t, ta, sample.Id, catch.Id)
	testRouteErrors(t, ta)
	if err := mg.DeleteRoute(ctx, sample.Id); err != nil {
		t.Fatalf("DeleteRoute: %v", err)
	}
	if err := mg.DeleteRoute(ctx, sample.Id); sdkStatus(err) != http.StatusNotFound {
		t.Errorf("second DeleteRoute = %v, want 404", err)
	}
}

func testRouteMatch(t *testing.T, ta *testutil.TestApp, sampleID, catchID string) {
	var env mgapi.RouteEnvelope
	ta.Call(t, http.MethodGet, "/v3/routes/match?address=alice%40samples.mailgun.org", ta.Key, testutil.NoBody).
		Want(t, http.StatusOK).Decode(t, &env)
	if env.Route.ID != catchID {
		t.Errorf("match for alice: %+v, want the catch-all that runs first", env.Route)
	}
	ta.Call(t, http.MethodDelete, "/v3/routes/"+catchID, ta.Key, testutil.NoBody).Want(t, http.StatusOK)
	ta.Call(t, http.MethodGet, "/v3/routes/match?address=alice%40samples.mailgun.org", ta.Key, testutil.NoBody).
		Want(t, http.StatusOK).Decode(t, &env)
	if env.Route.ID != sampleID {
		t.Errorf("match for alice: %+v, want the sample route", env.Route)
	}
	ta.Call(t, http.MethodGet, "/v3/routes/match?address=bob%40elsewhere.org", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusNotFound, "Route not found")
}

func testRouteErrors(t *testing.T, ta *testutil.TestApp) {
	for _, tc := range []struct {
		fields url.Values
		want   string
	}{
		{url.Values{"expression": {`catch_all()`}}, "'action' parameter is required"},
		{url.Values{"action": {`stop()`}}, "'expression' parameter is required"},
		{url.Values{"expression": {`match_recipient(".*@x.com") or catch_all()`}, "action": {"stop()"}},
			`Invalid expression "match_recipient(\".*@x.com\") or catch_all()": expected "and" or the end of the expression, found "or" at position 29`},
		{url.Values{"expression": {`match_recipient("(a)\1")`}, "action": {"stop()"}}, "backreferences"},
		{url.Values{"expression": {`catch_all()`}, "action": {`forward("ftp://x")`}}, `is not an http:// or https:// URL at position 9`},
		{url.Values{"expression": {`catch_all()`}, "action": {"stop()"}, "priority": {"high"}}, "'priority' parameter must be an integer"},
	} {
		var body mgapi.Message
		ta.Call(t, http.MethodPost, "/v3/routes", ta.Key, testutil.Form(tc.fields)).Want(t, http.StatusBadRequest).Decode(t, &body)
		if !strings.Contains(body.Message, tc.want) {
			t.Errorf("POST /v3/routes %v = %q, want %q", tc.fields, body.Message, tc.want)
		}
	}
	ta.Call(t, http.MethodGet, "/v3/routes?limit=1001", ta.Key, testutil.NoBody).
		WantMessage(t, http.StatusBadRequest, "The 'limit' parameter can't be larger than 1000")
	var list mgapi.RoutesPage
	ta.Call(t, http.MethodGet, "/v3/routes", ta.Key, testutil.NoBody).Want(t, http.StatusOK).Decode(t, &list)
	if list.TotalCount != 1 {
		t.Errorf("refused creates stored something: %+v", list)
	}
}
