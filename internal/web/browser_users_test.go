package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/salvo-email/salvo/internal/auth"
)

// TestBrowserUsers follows Account Settings → Users: a wrong current
// password is refused; the right one changes the password, ends the
// user's other sessions and keeps this one; another user is deleted after
// a confirmation and can no longer log in; deleting yourself needs your
// email typed again and logs you out; the last user cannot be deleted.
func TestBrowserUsers(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	ctx := context.Background()
	bob, err := d.Users.Create(ctx, auth.NewUser{Email: "bob@example.com", Name: "Bob <b>", Password: "bob password 1"})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := d.client(t) // another session of the same user
	elsewhere.login(testEmail, testPassword)
	for _, size := range []struct {
		name string
		w, h int
	}{{"desktop", desktopW, desktopH}, {"phone", phoneW, phoneH}} {
		b := loggedIn(t, d, size.w, size.h)
		b.do(size.name+": open Users", chromedp.Navigate(d.Base+"/dashboard/account/users"), chromedp.WaitVisible(chromedp.ID("change-password")))
		b.snap("users-" + size.name)
	}
	b := loggedIn(t, d, desktopW, desktopH)
	confirms := b.acceptDialogs()
	b.do("open Users", chromedp.Navigate(d.Base+"/dashboard/account/users"), chromedp.WaitVisible(chromedp.ID("change-password")))
	if !strings.Contains(b.html(), "Bob &lt;b&gt;") {
		t.Error("the user's name is not shown escaped")
	}
	b.fill(map[string]string{"current-password": "not my password", "new-password": "a new password", "new-password2": "a new password"})
	b.do("change with a wrong current password", loads(chromedp.Click(chromedp.ID("change-password-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); got != "The current password is wrong." {
		t.Errorf("error = %q", got)
	}
	b.fill(map[string]string{"current-password": testPassword, "new-password": "a new password", "new-password2": "a new password"})
	b.do("change the password", loads(chromedp.Click(chromedp.ID("change-password-button"))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text(".notice"); !strings.HasPrefix(got, "Your password was changed") {
		t.Errorf("notice = %q", got)
	}
	if p := elsewhere.get("/dashboard/account/users"); !redirectsToLogin(p) {
		t.Errorf("the other session still works after the change: %d", p.StatusCode)
	}
	if p := d.client(t).tryLogin(testEmail, testPassword); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password still logs in: %d", p.StatusCode)
	}
	if p := d.client(t).tryLogin(testEmail, "a new password"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not log in: %d", p.StatusCode)
	}

	bobs := d.client(t)
	bobs.login("bob@example.com", "bob password 1")
	b.do("delete bob", loads(chromedp.Click(chromedp.CSS(`button[aria-label="Delete bob@example.com"]`))), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := confirms(); len(got) != 1 || got[0] != "Delete bob@example.com? They are logged out at once." {
		t.Errorf("confirmations = %q", got)
	}
	if got := b.text(".notice"); got != "User bob@example.com was deleted and logged out." {
		t.Errorf("notice = %q", got)
	}
	if _, err := d.Users.Global.User(ctx, bob.ID); err == nil {
		t.Error("bob is still stored")
	}
	if p := bobs.get("/dashboard/"); !redirectsToLogin(p) {
		t.Errorf("bob's session still works: %d", p.StatusCode)
	}
	if p := d.client(t).tryLogin("bob@example.com", "bob password 1"); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("bob still logs in: %d", p.StatusCode)
	}

	// Now the only user: deleting yourself is refused, typed email or not.
	b.do("open delete yourself", chromedp.Click(chromedp.CSS("#users details summary")), chromedp.WaitVisible(chromedp.ID("delete-self-confirm")))
	b.fill(map[string]string{"delete-self-confirm": "someone@example.com"})
	b.do("delete yourself with another email", loads(chromedp.Click(chromedp.ID("delete-self-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.HasPrefix(got, "To delete yourself, type your own email") {
		t.Errorf("error = %q", got)
	}
	b.do("open delete yourself", chromedp.Click(chromedp.CSS("#users details summary")), chromedp.WaitVisible(chromedp.ID("delete-self-confirm")))
	b.fill(map[string]string{"delete-self-confirm": testEmail})
	b.do("delete the last user", loads(chromedp.Click(chromedp.ID("delete-self-button"))), chromedp.WaitVisible(chromedp.ID("form-error")))
	if got := b.text("#form-error"); !strings.HasPrefix(got, "This is the only user") {
		t.Errorf("error = %q", got)
	}
	// With a second user, deleting yourself logs you out.
	if _, err := d.Users.Create(ctx, auth.NewUser{Email: "carol@example.com", Password: "carol password"}); err != nil {
		t.Fatal(err)
	}
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#users details summary")))
	b.do("open delete yourself", chromedp.Click(chromedp.CSS("#users details summary")), chromedp.WaitVisible(chromedp.ID("delete-self-confirm")))
	b.fill(map[string]string{"delete-self-confirm": strings.ToUpper(testEmail)})
	b.do("delete yourself", loads(chromedp.Click(chromedp.ID("delete-self-button"))), chromedp.WaitVisible(chromedp.ID("email")))
	if p := d.client(t).tryLogin(testEmail, "a new password"); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("the deleted user still logs in: %d", p.StatusCode)
	}
	b.noConsoleErrors()
}

// TestBrowserLoginNext: a page asked for before login is where the login
// lands; a next parameter pointing elsewhere lands on the Overview.
func TestBrowserLoginNext(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	b := newTab(t, d.Base, phoneW, phoneH)
	b.do("ask for the tags page", chromedp.Navigate(d.Base+"/dashboard/tags?domain=x.example"), chromedp.WaitVisible(chromedp.ID("email")))
	b.do("log in", chromedp.SendKeys(chromedp.ID("email"), testEmail), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		loads(chromedp.Click(chromedp.ID("login"))), chromedp.WaitVisible(chromedp.ID("who")))
	if loc := b.location(); loc != d.Base+"/dashboard/tags?domain=x.example" {
		t.Errorf("after login at %s, want the tags page", loc)
	}
	for _, next := range []string{"//evil.example/dashboard/", "https://evil.example/dashboard/", "/\\evil.example", "/elsewhere"} {
		c := d.client(t)
		tok := c.csrf("/dashboard/login")
		p := c.post("/dashboard/login", map[string][]string{"csrf": {tok}, "email": {testEmail}, "password": {testPassword}, "next": {next}})
		if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/" {
			t.Errorf("login with next=%q: %d to %q, want the Overview", next, p.StatusCode, p.Header.Get("Location"))
		}
	}
	b.noConsoleErrors()
}
