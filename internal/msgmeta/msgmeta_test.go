package msgmeta

import (
	"encoding/json"
	"fmt"
	"testing"
)

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

// TestMetaRoundTrip: a stored Meta reads back as written, a job's vars
// decode per the message's kind (list fan-out or batch), and the events
// of a batch copy name only its own recipient.
func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	tr := true
	in := Meta{Options: Options{DKIM: true, Tracking: &tr, SendingIP: "192.0.2.1"}, Batch: true,
		Recipients: []string{"a@x.test", "b@x.test"}, Vars: map[string]string{"k": `{"n":1}`},
		VarTemplates: map[string]string{"who": "%recipient.name%"}}
	in.Info.To = "a@x.test, b@x.test"
	in.Info.UserVariables = map[string]any{"k": map[string]any{"n": float64(1)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil || !out.Options.DKIM || out.Options.Tracking == nil || !*out.Options.Tracking ||
		out.Options.SendingIP != "192.0.2.1" || len(out.Recipients) != 2 || out.Vars["k"] != `{"n":1}` {
		t.Fatalf("Decode(%s) = %+v, %v", b, out, err)
	}
	if !out.Personalised() {
		t.Error("a batch is personalised")
	}
	if got := out.InfoFor("b@x.test").To; got != "b@x.test" {
		t.Errorf("InfoFor(b).To = %q, want only b", got)
	}
	uv := out.UserVarsForJob("b@x.test", []byte(`{"name":"Bea"}`))
	if uv["who"] != "Bea" || uv["k"] == nil {
		t.Errorf("UserVarsForJob = %v, want who=Bea and k kept", uv)
	}
	list := Meta{Lists: []string{"l@x.test"}}
	p, err := list.JobPersonal([]byte(`{"name":"Ann","list":"l@x.test","vars":{"a":1}}`))
	if err != nil || p.Name != "Ann" || p.List != "l@x.test" || p.Vars["a"] != float64(1) {
		t.Errorf("list JobPersonal = %+v, %v", p, err)
	}
	if _, err := Decode([]byte("{not json")); err == nil {
		t.Error("Decode accepted broken JSON")
	}
	if got := DecodeVar(` [1,2] `); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("DecodeVar(array) = %v", got)
	}
	if got := DecodeVar("plain"); got != "plain" {
		t.Errorf("DecodeVar(plain) = %v", got)
	}
}
