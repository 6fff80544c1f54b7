package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPasswordChangeThrottled: wrong current passwords on the change
// form count in the login throttle, so the form is no faster a way to
// guess the password than the login form; the right one is refused too
// once slowed.
func TestPasswordChangeThrottled(t *testing.T) {
	t.Parallel()
	d := startDash(t, dashOptions{})
	c := d.client(t)
	token := c.login(testEmail, testPassword)
	change := func(current string) string {
		p := c.post("/dashboard/account/users/password", url.Values{"csrf": {token}, "current": {current},
			"password": {"a new password"}, "password2": {"a new password"}})
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("change: %d", p.StatusCode)
		}
		return c.get(p.Header.Get("Location")).Body
	}
	slowed := false
	for i := 0; i < 12 && !slowed; i++ {
		body := change("wrong guess " + string(rune('a'+i)))
		slowed = strings.Contains(body, "Too many failed logins")
		if !slowed && !strings.Contains(body, "The current password is wrong.") {
			t.Fatalf("guess %d: neither refused nor slowed:\n%s", i, body)
		}
	}
	if !slowed {
		t.Fatal("12 wrong current passwords in a row were never slowed")
	}
	if body := change(testPassword); !strings.Contains(body, "Too many failed logins") {
		t.Fatal("the right password went through while slowed")
	}
	if p := d.client(t).tryLogin(testEmail, testPassword); p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after the guesses: %d", p.StatusCode)
	}
}
