package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/auth"
)

const credsPath = "/dashboard/domains/" + testDomain + "/settings/smtp-credentials"

// credentials returns the domain's stored credentials as "login:hash"
// lines, so that a new password shows as a change.
func (d *dash) credentials(t *testing.T) string {
	t.Helper()
	cs, _, err := d.Regional.Credentials(context.Background(), testDomain, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s:%x\n", c.Login, c.Hash)
	}
	return b.String()
}

// checkPassword fails t unless password is (or, with want false, is not)
// the password of login, as the SMTP relay checks it.
func (d *dash) checkPassword(t *testing.T, login, password string, want bool) {
	t.Helper()
	_, err := d.Credentials.Verify(context.Background(), login, password)
	switch {
	case want && err != nil:
		t.Errorf("%s with its password: %v", login, err)
	case !want && !errors.Is(err, auth.ErrBadCredentials):
		t.Errorf("%s with a password it does not have: %v, want ErrBadCredentials", login, err)
	}
}

var newPasswordRE = regexp.MustCompile(`id="new-password">([^<]+)<`)

// listedLogins are the logins the tab lists, in order.
func listedLogins(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr class="credential[^"]*" data-login="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestCredentialForms adds a login with a typed password and one with a
// generated password, lists them, changes a password and deletes a
// login; every refusal of the credentials service (bad login, another
// domain's address, short or long password, a taken login, an unknown
// login, the system mailbox) comes back to the tab as its message and
// changes nothing.
func TestCredentialForms(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	ctx := context.Background()
	if _, _, err := d.Credentials.Create(ctx, testDomain, []string{"postmaster"}, "postmaster-pw"); err != nil {
		t.Fatal(err)
	}
	post := func(path string, v url.Values) string {
		v.Set("csrf", tok)
		return c.flashError(c.post(credsPath+path, v))
	}
	if p := c.get(credsPath); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `id="settings-tab-smtp-credentials" aria-current="page"`) {
		t.Fatalf("GET the tab: %d\n%s", p.StatusCode, p.Body)
	}
	if got := post("", url.Values{"login": {"alice"}, "password_mode": {"type"}, "password": {"alice-pass-1"}}); got != "" {
		t.Fatalf("add alice: %s", got)
	}
	p := c.post(credsPath, url.Values{"csrf": {tok}, "login": {"Bob@MG.Example.com"}, "password_mode": {"generate"}, "password": {"ignored-pw"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != credsPath {
		t.Fatalf("add bob: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	shown := c.get(credsPath)
	m := newPasswordRE.FindStringSubmatch(shown.Body)
	if m == nil || !strings.Contains(shown.Body, `id="new-login">bob@`+testDomain+`<`) {
		t.Fatalf("no generated password after adding bob:\n%s", shown.Body)
	}
	d.checkPassword(t, "alice@"+testDomain, "alice-pass-1", true)
	d.checkPassword(t, "bob@"+testDomain, m[1], true)
	d.checkPassword(t, "bob@"+testDomain, "ignored-pw", false)

	page := c.get(credsPath).Body
	want := []string{"alice@" + testDomain, "bob@" + testDomain, "postmaster@" + testDomain}
	if got := listedLogins(page); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed logins = %v, want %v", got, want)
	}
	cs, _, err := d.Regional.Credentials(ctx, testDomain, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if created := cs[0].CreatedAt.UTC().Format("Jan 2, 2006 15:04 MST"); !strings.Contains(page, created) {
		t.Errorf("the tab does not show alice's creation date %s", created)
	}
	if strings.Contains(page, `aria-label="Delete postmaster@`) || !strings.Contains(page, `aria-label="Delete alice@`) {
		t.Error("the tab offers to delete the system mailbox, or not alice")
	}

	before := d.credentials(t)
	long := strings.Repeat("x", auth.MaxCredentialPassword+1)
	refusals := []struct {
		path string
		form url.Values
		want string
	}{
		{"", url.Values{"login": {" "}, "password_mode": {"generate"}}, "Enter a login: a name such as alice, or alice@" + testDomain + "."},
		{"", url.Values{"login": {"al ice"}, "password_mode": {"generate"}}, `login "al ice" is not a valid mailbox name`},
		{"", url.Values{"login": {"carol@other.example"}, "password_mode": {"generate"}}, `login "carol@other.example" is not an address of the domain ` + testDomain},
		{"", url.Values{"login": {"carol"}, "password_mode": {"type"}, "password": {"abcd"}}, "password should be in range 5-32 characters"},
		{"", url.Values{"login": {"carol"}, "password_mode": {"type"}, "password": {long}}, "password should be in range 5-32 characters"},
		{"", url.Values{"login": {"carol"}, "password_mode": {"type"}}, "Enter a password, or choose to generate one."},
		{"", url.Values{"login": {"carol"}}, "Choose whether to type a password or to generate one."},
		{"", url.Values{"login": {"ALICE"}, "password_mode": {"type"}, "password": {"another-pass"}}, "Credentials already exist"},
		{"/password", url.Values{"login": {"alice"}, "password": {"abc"}}, "password should be in range 5-32 characters"},
		{"/password", url.Values{"login": {"alice"}}, "password should be in range 5-32 characters"},
		{"/password", url.Values{"login": {"nobody"}, "password": {"nobody-pass"}}, "Credentials not found"},
		{"/password", url.Values{"login": {"alice@other.example"}, "password": {"other-pass"}}, "Credentials not found"},
		{"/password", url.Values{"password": {"no-login-pass"}}, "Enter a login"},
		{"/delete", url.Values{"login": {"nobody"}}, "Credentials not found"},
		{"/delete", url.Values{"login": {"postmaster"}}, "Cannot delete system mailbox: postmaster@" + testDomain},
	}
	for _, r := range refusals {
		if got := post(r.path, r.form); !strings.Contains(got, r.want) {
			t.Errorf("POST %s %v: error %q, want %q", r.path, r.form, got, r.want)
		}
	}
	if after := d.credentials(t); after != before {
		t.Fatalf("refused forms changed the credentials:\n%s\n%s", before, after)
	}

	if got := post("/password", url.Values{"login": {"alice@" + testDomain}, "password": {"alice-pass-2"}}); got != "" {
		t.Fatalf("change alice's password: %s", got)
	}
	d.checkPassword(t, "alice@"+testDomain, "alice-pass-2", true)
	d.checkPassword(t, "alice@"+testDomain, "alice-pass-1", false)
	if got := post("/password", url.Values{"login": {"postmaster"}, "password": {"postmaster-pw2"}}); got != "" {
		t.Fatalf("change postmaster's password: %s", got)
	}
	d.checkPassword(t, "postmaster@"+testDomain, "postmaster-pw2", true)
	if got := post("/delete", url.Values{"login": {"bob@" + testDomain}}); got != "" {
		t.Fatalf("delete bob: %s", got)
	}
	d.checkPassword(t, "bob@"+testDomain, m[1], false)
	want = []string{"alice@" + testDomain, "postmaster@" + testDomain}
	if got := listedLogins(c.get(credsPath).Body); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listed logins after deleting bob = %v, want %v", got, want)
	}
}

// TestCredentialsPaging lists 120 logins 50 at a time.
func TestCredentialsPaging(t *testing.T) {
	t.Parallel()
	d, c, _ := withDomain(t)
	var logins []string
	for i := range 120 {
		logins = append(logins, fmt.Sprintf("u%03d", i))
	}
	if _, _, err := d.Credentials.Create(context.Background(), testDomain, logins, "paging-pass"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		skip        string
		first, last string
		n           int
		links       string
	}{
		{"", "u000", "u049", 50, "next"},
		{"50", "u050", "u099", 50, "prev,next"},
		{"100", "u100", "u119", 20, "prev"},
	} {
		p := c.get(credsPath + "?skip=" + step.skip)
		got := listedLogins(p.Body)
		if len(got) != step.n || got[0] != step.first+"@"+testDomain || got[len(got)-1] != step.last+"@"+testDomain {
			t.Errorf("skip=%s: %d logins %v", step.skip, len(got), got)
		}
		var links []string
		if strings.Contains(p.Body, "← Previous") {
			links = append(links, "prev")
		}
		if strings.Contains(p.Body, "Next →") {
			links = append(links, "next")
		}
		if strings.Join(links, ",") != step.links || !strings.Contains(p.Body, "(120)") {
			t.Errorf("skip=%s: links %v, want %s; or no total", step.skip, links, step.links)
		}
	}
}

// TestCredentialFormsNeedSessionAndCSRF: without the session's CSRF token
// each form is refused, and a sending key (in any header) neither opens
// the tab nor submits its forms; nothing changes.
func TestCredentialFormsNeedSessionAndCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	if _, _, err := f.Credentials.Create(context.Background(), testDomain, []string{"app"}, "app-password"); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(testEmail, testPassword)
	forms := map[string]url.Values{
		"":          {"login": {"new"}, "password_mode": {"generate"}},
		"/password": {"login": {"app"}, "password": {"changed-password"}},
		"/delete":   {"login": {"app"}},
	}
	before := f.credentials(t)
	for path, form := range forms {
		for what, tok := range map[string]string{"no": "", "a wrong": strings.Repeat("0", 64)} {
			v := url.Values{"csrf": {tok}}
			for k, vs := range form {
				v[k] = vs
			}
			if p := c.post(credsPath+path, v); p.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s token: %d", path, what, p.StatusCode)
			}
		}
	}
	keyed := f.client(t)
	for _, h := range []http.Header{
		{"Authorization": {"Basic " + b64("api:"+f.sendingKey)}},
		{"Authorization": {"Bearer " + f.sendingKey}},
	} {
		keyed.header = h
		if p := keyed.get(credsPath); !redirectsToLogin(p) || strings.Contains(p.Body, "app@"+testDomain) {
			t.Errorf("GET the tab with a sending key: %d %s", p.StatusCode, p.Header.Get("Location"))
		}
		for path, form := range forms {
			if p := keyed.post(credsPath+path, form); !redirectsToLogin(p) {
				t.Errorf("POST %s with a sending key: %d", path, p.StatusCode)
			}
		}
	}
	if after := f.credentials(t); after != before {
		t.Fatalf("refused requests changed the credentials:\n%s\n%s", before, after)
	}
	f.checkPassword(t, "app@"+testDomain, "app-password", true)
}

// TestCredentialPasswordShownOnce: a typed password is in no page, not
// even the one after the form (accepted or refused); a generated one is
// in the one page after its creation and nowhere after.
func TestCredentialPasswordShownOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dashOptions{})
	c := f.client(t)
	tok := c.login(testEmail, testPassword)
	noPageShows := func(when string, secrets ...string) {
		t.Helper()
		for path, body := range f.crawl(t, c) {
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("%s: GET %s shows the password %s", when, path, s)
				}
			}
		}
	}
	typed := []string{"typed-secret-1", "typed-secret-2", "refused-secret-3"}
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"", url.Values{"login": {"typed"}, "password_mode": {"type"}, "password": {typed[0]}}},
		{"/password", url.Values{"login": {"typed"}, "password": {typed[1]}}},
		{"", url.Values{"login": {"typed"}, "password_mode": {"type"}, "password": {typed[2]}}}, // taken: refused
	} {
		step.form.Set("csrf", tok)
		p := c.post(credsPath+step.path, step.form)
		next := c.get(p.Header.Get("Location"))
		if p.StatusCode != http.StatusSeeOther || next.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d, then %d", step.path, p.StatusCode, next.StatusCode)
		}
		for _, s := range typed {
			if strings.Contains(p.Body, s) || strings.Contains(next.Body, s) {
				t.Errorf("POST %s: the answer or the next page shows %s", step.path, s)
			}
		}
		if strings.Contains(next.Body, `id="new-password"`) {
			t.Errorf("POST %s: a typed password is shown as a new one", step.path)
		}
	}
	f.checkPassword(t, "typed@"+testDomain, typed[1], true)
	noPageShows("after typed passwords", typed...)

	p := c.post(credsPath, url.Values{"csrf": {tok}, "login": {"generated"}, "password_mode": {"generate"}})
	shown := c.get(p.Header.Get("Location"))
	m := newPasswordRE.FindStringSubmatch(shown.Body)
	if m == nil || !strings.Contains(shown.Body, "will not be shown again") || !strings.Contains(shown.Body, `data-copy="#new-password"`) {
		t.Fatalf("page after generating:\n%s", shown.Body)
	}
	generated := m[1]
	if len(generated) < auth.MinCredentialPassword || strings.Contains(p.Body, generated) {
		t.Fatalf("generated %q; the redirect carried it: %v", generated, strings.Contains(p.Body, generated))
	}
	f.checkPassword(t, "generated@"+testDomain, generated, true)
	if again := c.get(credsPath); strings.Contains(again.Body, generated) || strings.Contains(again.Body, `id="new-password"`) {
		t.Error("the generated password is shown again on a reload")
	}
	noPageShows("after a generated password", generated)
	// Only bcrypt hashes are stored.
	cs, _, err := f.Regional.Credentials(context.Background(), testDomain, 0, 10)
	if err != nil || len(cs) != 2 {
		t.Fatalf("stored credentials: %v, %v", cs, err)
	}
	for _, cr := range cs {
		if strings.Contains(string(cr.Hash), generated) || strings.Contains(string(cr.Hash), typed[1]) {
			t.Errorf("%s is stored in clear", cr.Login)
		}
	}
}
