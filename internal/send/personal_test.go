package send

import "testing"

func TestPersonalReplacer(t *testing.T) {
	t.Parallel()
	r := PersonalReplacer("bob@x.test", Personal{Name: "John Q. Public", Vars: map[string]any{"id": float64(7), "o": map[string]any{"a": "b"}}})
	for in, want := range map[string]string{
		"%recipient%":                         `"John Q. Public" <bob@x.test>`,
		"%recipient_email%":                   "bob@x.test",
		"%recipient_name%":                    "John Q. Public",
		"%recipient_fname%/%recipient_lname%": "John/Q. Public",
		"%recipient.id% %recipient.o%":        `7 {"a":"b"}`,
		"%recipient.none% %unsubscribe_url%":  "%recipient.none% %unsubscribe_url%",
		"100% %recipient_email":               "100% %recipient_email",
	} {
		if got := r(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
	plain := PersonalReplacer("a@x.test", Personal{Name: "Ann Lee"})
	if got := plain("%recipient%"); got != "Ann Lee <a@x.test>" {
		t.Errorf("%%recipient%% = %q", got)
	}
	if got := Replacer("a@x.test", nil)("%recipient%|%recipient_name%|%recipient_fname%"); got != "a@x.test||" {
		t.Errorf("batch without a name = %q", got)
	}
}
