package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/templates"
	"github.com/salvo-email/salvo/internal/testutil"
)

const testDomain = "mg.example.com"

// fixture is an app with a domain, a sending key and a developer key.
type fixture struct {
	*dash
	sendingKey, sendingID string
	userKeyID             string
	// msgID and msgKey are the Message-ID and storage key of a message
	// sent with the sending key.
	msgID, msgKey string
	// imports are a finished CSV import of each suppression list, by the
	// list's dashboard name.
	imports map[string]string
	// routeID is an inbound route's id.
	routeID string
	// listAddr is a mailing list with the member memberAddr, and
	// uploadID a background upload of members to it.
	listAddr, memberAddr, uploadID string
	// poolID is an IP pool and subID a subaccount.
	poolID, subID string
	// otherUserID is a second dashboard user (the Users page deletes it).
	otherUserID string
}

func newFixture(t *testing.T, o dashOptions) *fixture {
	t.Helper()
	d := startDash(t, o)
	ctx := context.Background()
	if _, err := d.Domains.Create(ctx, domains.CreateRequest{Name: testDomain}); err != nil {
		t.Fatal(err)
	}
	sk, secretValue, err := d.Keys.Create(ctx, auth.KeyRequest{Role: store.RoleSending, DomainName: testDomain, Description: "app"})
	if err != nil {
		t.Fatal(err)
	}
	uk, _, err := d.Keys.Create(ctx, auth.KeyRequest{Role: store.RoleDeveloper, Description: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dash: d, sendingKey: secretValue, sendingID: sk.ID, userKeyID: uk.ID}
	f.msgID = d.send(t, secretValue, fixtureMessage())
	f.msgKey = d.storageKey(t, f.msgID)
	f.routeID = "5f2b7c1e0000000000000001"
	if err := d.Regional.CreateRoute(ctx, store.Route{ID: f.routeID, Expression: `match_recipient("fixture@.*")`,
		Actions: []string{"stop()"}, CreatedAt: time.Now().UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	f.listAddr, f.memberAddr = "fixture-list@"+testDomain, "member@example.org"
	f.uploadID = fixtureList(t, d, f.listAddr, f.memberAddr)
	if _, err := d.Templates.Create(ctx, testDomain, "fixture", "", "", &templates.VersionInput{Tag: "v1", Content: "<p>{{x}}</p>"}); err != nil {
		t.Fatal(err)
	}
	other, err := d.Users.Create(ctx, auth.NewUser{Email: "other@example.com", Password: "other password"})
	if err != nil {
		t.Fatal(err)
	}
	f.otherUserID = other.ID
	f.poolID, f.subID = "0123456789abcdef01234567", "76543210fedcba9876543210"
	if err := d.Regional.CreateIPPool(ctx, store.IPPool{ID: f.poolID, Name: "fixture pool", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := d.Global.CreateSubaccount(ctx, store.Subaccount{ID: f.subID, Name: "fixture sub", Status: store.SubaccountOpen,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	f.imports = map[string]string{}
	for slug, list := range map[string]string{"bounces": store.Bounces, "unsubscribes": store.Unsubscribes,
		"complaints": store.Complaints, "allowlist": store.Allowlist} {
		im, err := d.Importer.Submit(ctx, testDomain, list, []byte("address\n"))
		if err != nil {
			t.Fatal(err)
		}
		d.waitImport(t, im.ID)
		f.imports[slug] = im.ID
	}
	return f
}

// waitImport waits until an import is done or failed and returns it.
func (d *dash) waitImport(t *testing.T, id string) store.Import {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		im, err := d.Regional.Import(context.Background(), testDomain, id)
		if err != nil {
			t.Fatal(err)
		}
		if im.State == store.ImportDone || im.State == store.ImportFailed {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s still %s after %v", id, im.State, waitTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// path turns a route pattern into a request path of the fixture.
func (f *fixture) path(pattern string) string {
	switch pattern {
	case "/dashboard/":
		return "/dashboard/no-such-page"
	case "/dashboard/static/":
		return "/dashboard/static/app.css"
	case "/dashboard/logs/{domain}/message":
		return "/dashboard/logs/" + testDomain + "/message?id=" + url.QueryEscape(f.msgID)
	case "/dashboard/logs/export":
		return "/dashboard/logs/export?format=json&domain=" + testDomain
	}
	id := f.userKeyID
	if strings.Contains(pattern, "sending-keys") {
		id = f.sendingID
	}
	if strings.HasPrefix(pattern, "/dashboard/routes/") {
		id = f.routeID
	}
	if strings.HasPrefix(pattern, "/dashboard/lists/") {
		id = f.uploadID
	}
	if strings.HasPrefix(pattern, "/dashboard/ips/pools/") {
		id = f.poolID
	}
	if strings.HasPrefix(pattern, "/dashboard/subaccounts/") {
		id = f.subID
	}
	if before, ok := strings.CutSuffix(pattern, "/imports/{id}"); ok {
		id = f.imports[before[strings.LastIndexByte(before, '/')+1:]]
	}
	return strings.NewReplacer("{name}", testDomain, "{domain}", testDomain, "{id}", id, "{key}", f.msgKey,
		"{list}", f.listAddr, "{user}", f.otherUserID, "{member}", f.memberAddr,
		"{template}", "fixture", "{tag}", "v1",
		"{n}", "0", "{$}", "").Replace(pattern)
}

// methods are the methods to try on a route.
func methods(r string) []string {
	if r == "" {
		return []string{http.MethodGet, http.MethodPost}
	}
	return []string{r}
}

// TestEveryPageNeedsLogin enumerates the dashboard's routes: without a
// session each one sends the browser to the login form, whatever API key
// comes with the request, and shows nothing of the account.
func TestEveryPageNeedsLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	routes := f.webServer(t).Routes()
	if len(routes) < 18 {
		t.Fatalf("only %d routes: %+v", len(routes), routes)
	}
	basic := func(key string) http.Header {
		return http.Header{"Authorization": {"Basic " + b64("api:"+key)}}
	}
	attempts := map[string]http.Header{
		"nothing":            {},
		"primary key":        basic(f.Key),
		"sending key":        basic(f.sendingKey),
		"bearer primary key": {"Authorization": {"Bearer " + f.Key}},
		"key as cookie":      {"Cookie": {"salvo_session=" + f.Key}},
		"forged cookie":      {"Cookie": {"salvo_session=" + strings.Repeat("ab", 32)}},
	}
	for _, r := range routes {
		if r.Public {
			continue
		}
		for _, m := range methods(r.Method) {
			for what, h := range attempts {
				c := f.client(t)
				c.header = h
				p := c.do(m, f.path(r.Pattern), url.Values{})
				if !redirectsToLogin(p) {
					t.Errorf("%s %s with %s: %d %s", m, r.Pattern, what, p.StatusCode, p.Header.Get("Location"))
				}
				if strings.Contains(p.Body, f.Key) || strings.Contains(p.Body, testEmail) || strings.Contains(p.Body, "DKIM") {
					t.Errorf("%s %s with %s shows account data:\n%s", m, r.Pattern, what, p.Body)
				}
			}
		}
	}
	// The public routes are the login form and the static assets.
	var public []string
	for _, r := range routes {
		if r.Public {
			public = append(public, r.Method+" "+r.Pattern)
		}
	}
	sort.Strings(public)
	want := "[GET /dashboard/login GET /dashboard/static/ POST /dashboard/login]"
	if fmt.Sprint(public) != want {
		t.Errorf("public routes = %v, want %s", public, want)
	}
}

// postCases are valid submissions of every state-changing route; a route
// missing here fails TestCSRFRequiredOnEveryForm.
func postCases() map[string]url.Values {
	cases := map[string]url.Values{
		"/dashboard/account/api-keys/primary/reveal": {},
		"/dashboard/account/api-keys/primary/rotate": {},
		"/dashboard/account/api-keys/{id}/revoke":    {},
		"/dashboard/account/switch":                  {"account": {""}},
		"/dashboard/account/users": {"email": {"new@example.com"}, "password": {"another password"},
			"password2": {"another password"}},
		"/dashboard/account/users/{user}/delete": {},
		"/dashboard/ips/pools":                   {"name": {"csrf pool"}, "description": {"made by the CSRF test"}},
		"/dashboard/ips/pools/{id}":              {"name": {"renamed pool"}, "description": {"renamed"}},
		"/dashboard/ips/pools/{id}/delete":       {},
		"/dashboard/ips/domains":                 {"domain": {testDomain}},
		"/dashboard/subaccounts":                 {"name": {"csrf sub"}},
		"/dashboard/subaccounts/{id}/disable":    {},
		"/dashboard/subaccounts/{id}/enable":     {},
		"/dashboard/account/users/password": {"current": {testPassword}, "password": {"a new password"},
			"password2": {"a new password"}},
		"/dashboard/domains":                                          {"name": {"new.example.com"}},
		"/dashboard/domains/{name}/verify":                            {},
		"/dashboard/domains/{name}/settings/sending-keys":             {"description": {"new key"}},
		"/dashboard/domains/{name}/settings/sending-keys/{id}/revoke": {},
		"/dashboard/domains/{name}/settings/connection":               {"require_tls": {"on"}},
		"/dashboard/domains/{name}/settings/tracking":                 {"click": {"on"}, "open": {"on"}},
		"/dashboard/logout":                                           {},
		"/dashboard/routes":                                           {"priority": {"3"}, "expression": {`match_recipient("csrf@.*")`}, "actions": {"stop()"}},
		"/dashboard/routes/{id}":                                      {"priority": {"4"}, "expression": {`match_recipient("csrf2@.*")`}, "actions": {"stop()"}},
		"/dashboard/routes/{id}/delete":                               {},
		"/dashboard/domains/{name}/delete":                            {"confirm": {testDomain}},
		"/dashboard/logs/{domain}/messages/{key}/resend":              {"to": {"csrf-resend@example.org"}},
		"/dashboard/tags/delete":                                      {"domain": {testDomain}, "tag": {"csrf-tag"}},
	}
	// Mailing lists: create one, edit the fixture's, add, upload, edit and
	// remove members, delete it (the order of their routes).
	lb := "/dashboard/lists/{list}"
	cases["/dashboard/lists"] = url.Values{"address": {"csrf-list@" + testDomain}}
	cases[lb] = url.Values{"address": {"fixture-list@" + testDomain}, "name": {"Renamed"}, "access_level": {"members"}}
	cases[lb+"/members"] = url.Values{"address": {"csrf-member@example.org"}, "subscribed": {"on"}}
	cases[lb+"/upload"] = url.Values{"file": {"address\nuploaded@example.org\n"}}
	cases[lb+"/members/{member}"] = url.Values{"name": {"Member"}, "vars": {`{"a": 1}`}}
	cases[lb+"/members/{member}/delete"] = url.Values{}
	cases[lb+"/delete"] = url.Values{"confirm": {"fixture-list@" + testDomain}}
	// Templates: create one; on the fixture's, preview, add a version,
	// save, activate, copy, send a test of and delete v1, delete it (the
	// order of their routes).
	tb := "/dashboard/templates/{domain}/{template}"
	cases["/dashboard/templates"] = url.Values{"domain": {testDomain}, "name": {"csrf-template"}, "template": {"<p>hi</p>"}}
	cases[tb+"/preview"] = url.Values{"template": {"<p>{{x}}</p>"}, "vars": {`{"x": 1}`}}
	cases[tb+"/versions"] = url.Values{"new_tag": {"v2"}, "template": {"<p>v2</p>"}}
	cases[tb+"/versions/{tag}"] = url.Values{"template": {"<p>v1 saved</p>"}, "comment": {"saved"}}
	cases[tb+"/versions/{tag}/activate"] = url.Values{}
	cases[tb+"/versions/{tag}/copy"] = url.Values{"new_tag": {"v1-copy"}}
	cases[tb+"/versions/{tag}/send"] = url.Values{"to": {"csrf-test@example.org"}, "from": {"t@" + testDomain}, "subject": {"csrf"}}
	cases[tb+"/versions/{tag}/delete"] = url.Values{}
	cases[tb+"/delete"] = url.Values{}
	// SMTP credentials: add a login, give it a new password, delete it
	// (the order of their routes).
	creds := "/dashboard/domains/{name}/settings/smtp-credentials"
	cases[creds] = url.Values{"login": {"csrf-app"}, "password_mode": {"type"}, "password": {"csrf-password-1"}}
	cases[creds+"/password"] = url.Values{"login": {"csrf-app"}, "password": {"csrf-password-2"}}
	cases[creds+"/delete"] = url.Values{"login": {"csrf-app"}}
	// Webhooks: add a URL, replace it, delete the new one (the order of
	// their routes).
	hook := url.Values{"kind": {"delivered"}, "url": {"http://127.0.0.1:9/hook"}}
	base := "/dashboard/domains/{name}/settings/webhooks"
	cases[base] = hook
	cases[base+"/replace"] = url.Values{"kind": hook["kind"], "url": hook["url"], "new_url": {"http://127.0.0.1:9/other"}}
	cases[base+"/delete"] = url.Values{"kind": hook["kind"], "url": {"http://127.0.0.1:9/other"}}
	cases[base+"/test"] = url.Values{"kind": hook["kind"], "url": hook["url"]} // replaced by a live receiver where it must answer
	cases[base+"/signing-key"] = url.Values{}
	// Each suppression list: add an address, delete it, clear the list,
	// import a file (a form with a "file" value is sent as an upload).
	for _, l := range []struct{ slug, extra string }{{"bounces", "code"}, {"unsubscribes", "tags"}, {"complaints", ""}, {"allowlist", "reason"}} {
		base := "/dashboard/suppressions/{domain}/" + l.slug
		add := url.Values{"address": {"csrf-" + l.slug + "@example.org"}}
		if l.extra != "" {
			add.Set(l.extra, map[string]string{"code": "551", "tags": "news", "reason": "test"}[l.extra])
		}
		cases[base] = add
		cases[base+"/delete"] = url.Values{"address": add["address"]}
		cases[base+"/clear"] = url.Values{"confirm": {testDomain}}
		cases[base+"/import"] = url.Values{"file": {"address\nimported-" + l.slug + "@example.org\n"}}
	}
	return cases
}

// submit posts form to path, as an upload when it has a "file" value.
func (c *client) submit(path string, form url.Values) page {
	c.t.Helper()
	if file, ok := form["file"]; ok {
		rest := url.Values{}
		for k, v := range form {
			if k != "file" {
				rest[k] = v
			}
		}
		return c.upload(path, rest, file[0])
	}
	return c.post(path, form)
}

// state is what any state-changing route could change.
func (f *fixture) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	keys, err := f.Keys.List(ctx, store.KeyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	users, _ := f.Users.List(ctx)
	_, total, _ := f.Domains.List(ctx, 0, 10)
	d, _ := f.Domains.Get(ctx, testDomain) // zero once the domain's Delete form ran
	primary, _ := f.Keys.RevealPrimary(ctx)
	hooks, err := f.Regional.Webhooks(ctx, testDomain)
	if err != nil {
		t.Fatal(err)
	}
	var lists []int
	for _, list := range []string{store.Bounces, store.Unsubscribes, store.Complaints, store.Allowlist} {
		recs, err := f.Regional.Suppressions(ctx, store.SuppressionQuery{Domain: testDomain, List: list, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, len(recs))
	}
	imports, err := f.Regional.Imports(ctx, testDomain, 1000)
	if err != nil {
		t.Fatal(err)
	}
	creds, _, err := f.Regional.Credentials(ctx, testDomain, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := f.Regional.Routes(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	mls, _, err := f.Lists.Offset(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.Templates.List(ctx, testDomain, store.PivotQuery{Limit: 100}, true)
	if err != nil {
		t.Fatal(err)
	}
	var tpls []string
	for _, c := range list {
		tpls = append(tpls, c.Template.Name)
		if c.Version != nil {
			tpls = append(tpls, c.Version.Tag, c.Version.Content)
		}
	}
	ntags, err := f.Regional.CountTags(ctx, testDomain)
	if err != nil {
		t.Fatal(err)
	}
	pools, err := f.Regional.IPPools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subs, _, err := f.Global.Subaccounts(ctx, store.SubaccountFilter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(ids, len(users), total, d.RequireTLS, d.SkipVerification, d.UpdatedAt, d.IPs, d.PoolID, primary, hooks, lists, len(imports), creds,
		rs, ntags, mls, tpls, pools, subs)
}

// TestCSRFRequiredOnEveryForm enumerates the state-changing routes: each
// refuses a request without the session's CSRF token, or with another
// session's, and changes nothing; each works with it.
func TestCSRFRequiredOnEveryForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	c := f.client(t)
	token := c.login(testEmail, testPassword)
	other := f.client(t).login(testEmail, testPassword)
	tagged := fixtureMessage()
	if err := tagged.AddTag("csrf-tag"); err != nil {
		t.Fatal(err)
	}
	f.send(t, f.sendingKey, tagged) // a tag for the tag's Delete button
	cases := postCases()
	signing, err := f.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rcv := testutil.StartWebhookReceiver(t, signing) // answers the Test button's post
	cases["/dashboard/domains/{name}/settings/webhooks/test"] = url.Values{"kind": {"delivered"}, "url": {rcv.URL}}
	var posts []string
	for _, r := range f.webServer(t).Routes() {
		if r.Method != http.MethodPost || r.Public {
			continue
		}
		posts = append(posts, r.Pattern)
		if _, ok := cases[r.Pattern]; !ok {
			t.Errorf("POST %s has no CSRF test case", r.Pattern)
		}
	}
	before := f.state(t)
	for _, pattern := range posts {
		for what, tok := range map[string]string{"no": "", "another session's": other, "a wrong": strings.Repeat("0", 64)} {
			form := url.Values{}
			for k, v := range cases[pattern] {
				form[k] = v
			}
			if tok != "" {
				form.Set("csrf", tok)
			}
			p := c.submit(f.path(pattern), form)
			if p.StatusCode != http.StatusForbidden || strings.Contains(p.Body, f.Key) {
				t.Errorf("POST %s with %s token: %d", pattern, what, p.StatusCode)
			}
		}
	}
	if after := f.state(t); after != before {
		t.Fatalf("refused requests changed state:\n%s\n%s", before, after)
	}
	if p := c.get("/dashboard/domains"); p.StatusCode != http.StatusOK {
		t.Fatalf("session gone after refused logouts: %d", p.StatusCode)
	}
	// With the token each one works; logout last.
	sort.SliceStable(posts, func(i, j int) bool { return posts[i] != "/dashboard/logout" && posts[j] == "/dashboard/logout" })
	for _, pattern := range posts {
		form := cases[pattern]
		form.Set("csrf", token)
		p := c.submit(f.path(pattern), form)
		if p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusOK {
			t.Errorf("POST %s with the token: %d\n%s", pattern, p.StatusCode, p.Body)
		}
		if p.StatusCode == http.StatusSeeOther && pattern != "/dashboard/logout" {
			// The form did its work: the next page has no error message
			// (a verify of the fixture's unpublished records says so as one).
			next := c.get(p.Header.Get("Location"))
			if pattern == "/dashboard/domains/{name}/verify" {
				if !strings.Contains(next.Body, "DNS records checked: the domain is still unverified") {
					t.Errorf("POST %s with the token did not check the records:\n%s", pattern, next.Body)
				}
			} else if strings.Contains(next.Body, `id="form-error"`) {
				t.Errorf("POST %s with the token was refused:\n%s", pattern, next.Body)
			}
		}
	}
	if f.state(t) == before {
		t.Fatal("the accepted requests changed nothing")
	}
}

// TestLoginFormCSRF: the login form needs its double-submit token.
func TestLoginFormCSRF(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	c := d.client(t)
	form := url.Values{"email": {testEmail}, "password": {testPassword}}
	if p := c.post("/dashboard/login", form); p.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token or cookie: %d", p.StatusCode)
	}
	c.csrf("/dashboard/login") // sets the cookie
	form.Set("csrf", strings.Repeat("a", 32))
	if p := c.post("/dashboard/login", form); p.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a token that is not the cookie's: %d", p.StatusCode)
	}
	if p := c.tryLogin(testEmail, testPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the token: %d", p.StatusCode)
	}
}

// TestSessionsExpire moves a fake clock past the idle and absolute limits.
func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	clock := testutil.NewClock(time.Now().UTC())
	d := startDash(t, dashOptions{clock: clock, configure: func(c *config.Config) {
		c.SessionIdleTimeout = 10 * time.Minute
		c.SessionMaxAge = time.Hour
	}})
	c := d.client(t)
	c.login(testEmail, testPassword)
	clock.Advance(9 * time.Minute)
	if p := c.get("/dashboard/domains"); p.StatusCode != http.StatusOK {
		t.Fatalf("after 9 idle minutes: %d", p.StatusCode)
	}
	clock.Advance(10 * time.Minute)
	if p := c.get("/dashboard/domains"); !redirectsToLogin(p) {
		t.Fatalf("after 10 idle minutes: %d", p.StatusCode)
	}
	// Active every 5 minutes: alive until the hour is over, not after.
	c.login(testEmail, testPassword)
	for i := 1; i < 12; i++ {
		clock.Advance(5 * time.Minute)
		if p := c.get("/dashboard/account/api-keys"); p.StatusCode != http.StatusOK {
			t.Fatalf("active session after %d min: %d", 5*i, p.StatusCode)
		}
	}
	clock.Advance(5 * time.Minute)
	if p := c.get("/dashboard/account/api-keys"); !redirectsToLogin(p) {
		t.Fatalf("after the absolute limit: %d", p.StatusCode)
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCookieFlags checks the cookies' attributes under an http and an
// https public URL.
func TestCookieFlags(t *testing.T) {
	t.Parallel()
	for _, public := range []string{"", "https://dash.example.test"} {
		t.Run(map[string]string{"": "http", "https://dash.example.test": "https"}[public], func(t *testing.T) {
			t.Parallel()
			d := startDash(t, dashOptions{configure: func(c *config.Config) { c.PublicURL = public }})
			c := d.client(t)
			lp := c.get("/dashboard/login")
			p := c.tryLogin(testEmail, testPassword)
			secure := public != ""
			lc, sc := cookieNamed(lp.Response, "salvo_login"), cookieNamed(p.Response, "salvo_session")
			if lc == nil || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode || lc.Secure != secure || lc.Path != "/dashboard/login" {
				t.Errorf("login cookie = %+v", lc)
			}
			if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure != secure || sc.Path != "/dashboard" {
				t.Errorf("session cookie = %+v", sc)
			}
			if sc != nil && len(sc.Value) != 64 {
				t.Errorf("session token %q is not 32 random bytes", sc.Value)
			}
		})
	}
}

var newSecretRE = regexp.MustCompile(`id="new-secret">([^<]+)<`)

// crawl fetches every page a logged-in user can GET and returns the
// bodies.
func (f *fixture) crawl(t *testing.T, c *client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range f.webServer(t).Routes() {
		if r.Method != http.MethodGet && r.Method != "" {
			continue
		}
		path := f.path(r.Pattern)
		p := c.get(path)
		redirects := r.Pattern == "/dashboard/{$}" || r.Pattern == "/dashboard/login" || r.Pattern == "/dashboard/suppressions" ||
			r.Pattern == "/dashboard/logs/{domain}/message"
		ok := p.StatusCode == http.StatusOK || (redirects && p.StatusCode == http.StatusSeeOther) ||
			(r.Pattern == "/dashboard/" && p.StatusCode == http.StatusNotFound)
		if !ok {
			t.Errorf("GET %s: %d", path, p.StatusCode)
		}
		out[path] = p.Body
	}
	return out
}

// TestPrimaryKeyOnlyInReveal: the primary key is in no page, only in the
// eye icon's response.
func TestPrimaryKeyOnlyInReveal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	c := f.client(t)
	token := c.login(testEmail, testPassword)
	check := func(when string) {
		for path, body := range f.crawl(t, c) {
			if strings.Contains(body, f.Key) {
				t.Errorf("%s: GET %s shows the primary key", when, path)
			}
		}
	}
	check("before reveal")
	c.header.Set("Accept", "application/json")
	p := c.post("/dashboard/account/api-keys/primary/reveal", url.Values{"csrf": {token}})
	c.header.Del("Accept")
	if p.StatusCode != http.StatusOK || p.Body != `{"key":"`+f.Key+`"}`+"\n" || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d %q %v", p.StatusCode, p.Body, p.Header)
	}
	// Without JavaScript the form answers the page with the key shown.
	if p := c.post("/dashboard/account/api-keys/primary/reveal", url.Values{"csrf": {token}}); !strings.Contains(p.Body, f.Key) {
		t.Fatalf("reveal without JavaScript: %d\n%s", p.StatusCode, p.Body)
	}
	check("after reveal")
}

// TestSendingKeySecretShownOnce: a new sending key's secret is in the one
// page after its creation and nowhere after.
func TestSendingKeySecretShownOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	c := f.client(t)
	token := c.login(testEmail, testPassword)
	keysPage := "/dashboard/domains/" + testDomain + "/settings/sending-keys"
	p := c.post(keysPage, url.Values{"csrf": {token}, "description": {"billing app"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != keysPage {
		t.Fatalf("create: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	shown := c.get(keysPage)
	m := newSecretRE.FindStringSubmatch(shown.Body)
	if m == nil || !strings.Contains(shown.Body, "will not be shown again") || !strings.Contains(shown.Body, "billing app") {
		t.Fatalf("page after creation:\n%s", shown.Body)
	}
	secretValue := m[1]
	if _, err := (&auth.Authenticator{Global: f.Global, Now: time.Now}).Authenticate(context.Background(), secretValue); err != nil {
		t.Fatalf("the shown secret is not a key: %v", err)
	}
	if strings.Contains(p.Body, secretValue) {
		t.Error("the redirect carried the secret")
	}
	for path, body := range f.crawl(t, c) {
		if strings.Contains(body, secretValue) {
			t.Errorf("GET %s shows the secret again", path)
		}
	}
	if got := f.apiStatus(t, "POST", "/v3/"+testDomain+"/messages", secretValue, url.Values{"to": {"a@example.org"}}); got == http.StatusUnauthorized {
		t.Fatalf("the new key cannot send: %d", got)
	}
}

// TestLoginThrottling: after the free failures each attempt waits, even
// with the right password, and works again once the wait is over; the
// page says when logins are being slowed.
func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	clock := testutil.NewClock(time.Now().UTC())
	d := startDash(t, dashOptions{clock: clock, configure: func(c *config.Config) { c.LoginFailureLimit = 3 }})
	c := d.client(t)
	for i := 0; i < 4; i++ {
		p := c.tryLogin(testEmail, "wrong password")
		if p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.StatusCode)
		}
		if slowed := strings.Contains(p.Body, "being slowed down"); slowed != (i == 3) {
			t.Errorf("failure %d: page says slowed: %v\n%s", i+1, slowed, p.Body)
		}
	}
	p := c.tryLogin(testEmail, testPassword)
	if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") != "1" || !strings.Contains(p.Body, "Too many failed logins") ||
		!strings.Contains(p.Body, "being slowed down") {
		t.Fatalf("right password while throttled: %d %q\n%s", p.StatusCode, p.Header.Get("Retry-After"), p.Body)
	}
	clock.Advance(time.Second)
	if p := c.tryLogin(testEmail, testPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", p.StatusCode)
	}
}

// TestLoginThrottleParallel: 60 parallel wrong logins for one account
// from one address (real HTTP requests, a bcrypt cost that makes the
// check slow) are throttled like sequential ones: at most the allowance
// (5) is checked, the rest are refused with 429 before any check.
func TestLoginThrottleParallel(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{bcryptCost: 10})
	c := d.client(t)
	token := c.csrf("/dashboard/login")
	form := url.Values{"csrf": {token}, "email": {testEmail}, "password": {"wrong password"}}.Encode()
	const n = 60
	codes := make(chan int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, d.Base+"/dashboard/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "salvo_login", Value: token})
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				codes <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	t.Logf("60 parallel wrong logins: %v", count)
	if count[http.StatusUnauthorized] < 1 || count[http.StatusUnauthorized] > 5 || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
		t.Fatalf("60 parallel wrong logins answered %v: want at most 5 checked (401), the rest 429", count)
	}
}

// TestLoginThrottlingPerAccount: guesses at one account from one address
// slow that address for that account, not the owner from elsewhere;
// guesses from many addresses slow the account once they pass its
// ceiling (10 × the limit), and guesses at many accounts from one address
// (an IPv6 /64) slow that address.
func TestLoginThrottlingPerAccount(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{configure: func(c *config.Config) { c.LoginFailureLimit = 3 }})
	h := d.webServer(t)
	login := func(addr, email, password string) (int, string) {
		get := httptest.NewRequest(http.MethodGet, "/dashboard/login", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, get)
		tok := csrfRE.FindStringSubmatch(rec.Body.String())[1]
		form := url.Values{"csrf": {tok}, "email": {email}, "password": {password}}
		post := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(form.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.RemoteAddr = addr
		post.AddCookie(&http.Cookie{Name: "salvo_login", Value: tok})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, post)
		return rec.Code, rec.Body.String()
	}
	for i := 0; i < 4; i++ {
		if code, _ := login("192.0.2.1:1234", testEmail, "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, code)
		}
	}
	if code, _ := login("192.0.2.1:1234", testEmail, testPassword); code != http.StatusTooManyRequests {
		t.Fatalf("the attacker's address after its guesses: %d, want 429", code)
	}
	if code, _ := login("198.51.100.1:1234", testEmail, testPassword); code != http.StatusSeeOther {
		t.Fatalf("the owner from another address: %d, want 303", code)
	}
	if code, _ := login("192.0.2.1:1234", "other@example.com", "wrong password"); code != http.StatusUnauthorized {
		t.Fatalf("another account from the attacker's address: %d, want 401", code)
	}
	// The account's ceiling: 30 failures from 30 addresses are checked,
	// the 31st slows the account from everywhere.
	for i := 0; i < 31; i++ {
		if code, _ := login(fmt.Sprintf("203.0.113.%d:1234", i+1), testEmail, "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("distributed guess %d: %d", i+1, code)
		}
	}
	code, body := login("198.51.100.2:1234", testEmail, testPassword)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "this account is receiving many failed logins") {
		t.Fatalf("the account past its ceiling: %d, want 429 saying the account is slowed\n%s", code, body)
	}
	// IPv6 addresses count per /64; an address's ceiling is 30 too.
	for i := 0; i < 31; i++ {
		if code, _ := login(fmt.Sprintf("[2001:db8::%d]:1234", i+1), fmt.Sprintf("u%d@example.com", i), "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("v6 guess %d: %d", i+1, code)
		}
	}
	code, body = login("[2001:db8::99]:1234", "fresh@example.com", "x")
	if code != http.StatusTooManyRequests || !strings.Contains(body, "logins from your address are being slowed") {
		t.Fatalf("same /64: %d, want 429\n%s", code, body)
	}
}

// TestLogout ends the session: its cookie no longer opens pages.
func TestLogout(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	c := d.client(t)
	token := c.login(testEmail, testPassword)
	stolen := c.jar.m["salvo_session"]
	p := c.post("/dashboard/logout", url.Values{"csrf": {token}})
	if !redirectsToLogin(p) || cookieNamed(p.Response, "salvo_session").MaxAge >= 0 {
		t.Fatalf("logout: %d %v", p.StatusCode, p.Header)
	}
	replay := d.client(t)
	replay.jar.m["salvo_session"] = stolen
	if p := replay.get("/dashboard/domains"); !redirectsToLogin(p) {
		t.Fatalf("old cookie after logout: %d", p.StatusCode)
	}
}

// TestAPIKeysCannotLogIn: no API key is a dashboard password.
func TestAPIKeysCannotLogIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	for _, email := range []string{"api", testEmail, ""} {
		for _, key := range []string{f.Key, f.sendingKey} {
			c := f.client(t)
			if p := c.tryLogin(email, key); p.StatusCode != http.StatusUnauthorized || cookieNamed(p.Response, "salvo_session") != nil {
				t.Errorf("login as %q with a key: %d", email, p.StatusCode)
			}
		}
	}
}

// TestFormErrorShownOnce: a refused form comes back to its page with the
// reason, once.
func TestFormErrorShownOnce(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	c := d.client(t)
	token := c.login(testEmail, testPassword)
	p := c.post("/dashboard/domains", url.Values{"csrf": {token}, "name": {"not a domain"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/domains" {
		t.Fatalf("bad domain: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if p := c.get("/dashboard/domains"); !strings.Contains(p.Body, "is not a valid domain name") {
		t.Fatalf("the error is not shown:\n%s", p.Body)
	}
	if p := c.get("/dashboard/domains"); strings.Contains(p.Body, "is not a valid domain name") {
		t.Fatal("the error is shown twice")
	}
}

// TestSecurityHeaders: pages are not framed, sniffed or cached.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	c := d.client(t)
	c.login(testEmail, testPassword)
	for _, path := range []string{"/dashboard/login", "/dashboard/domains", "/dashboard/account/api-keys"} {
		p := c.get(path)
		h := p.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || (path != "/dashboard/login" && h.Get("Cache-Control") != "no-store") {
			t.Errorf("GET %s headers: %v", path, h)
		}
	}
}
