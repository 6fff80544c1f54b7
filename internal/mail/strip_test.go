package mail

import "testing"

func TestStripBcc(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"none", "To: a@x\r\nSubject: s\r\n\r\nBcc: body stays\r\n", "To: a@x\r\nSubject: s\r\n\r\nBcc: body stays\r\n"},
		{"one", "To: a@x\r\nBcc: b@x\r\nSubject: s\r\n\r\nbody\r\n", "To: a@x\r\nSubject: s\r\n\r\nbody\r\n"},
		{"folded and lower-case", "bcc: b@x,\r\n c@x,\r\n\td@x\r\nTo: a@x\r\n\r\nbody", "To: a@x\r\n\r\nbody"},
		{"several", "BCC: b@x\r\nTo: a@x\r\nBcc: c@x\r\n\r\n", "To: a@x\r\n\r\n"},
		{"LF only", "To: a@x\nBcc: b@x\n\nbody\n", "To: a@x\n\nbody\n"},
		{"headers only", "To: a@x\r\nBcc: b@x\r\n", "To: a@x\r\n"},
		{"look-alike kept", "Bccx: 1\r\nX-Bcc: 2\r\n\r\n", "Bccx: 1\r\nX-Bcc: 2\r\n\r\n"},
	}
	for _, c := range cases {
		if got := string(StripBcc([]byte(c.in))); got != c.want {
			t.Errorf("%s: StripBcc(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestRemoveHeader(t *testing.T) {
	t.Parallel()
	in := "Message-Id: <a@x>\r\nMessage-ID-Extra: kept\r\nSubject: s\r\nmessage-id:\r\n <b@x>\r\n\r\nMessage-Id: <body>\r\n"
	want := "Message-ID-Extra: kept\r\nSubject: s\r\n\r\nMessage-Id: <body>\r\n"
	if got := string(RemoveHeader([]byte(in), "Message-Id")); got != want {
		t.Errorf("RemoveHeader = %q, want %q", got, want)
	}
}
