package mail

import "testing"

func TestStripReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, stripped, sig string }{
		{"plain", "Hello there\r\n", "Hello there", ""},
		{"gmail quote", "Sounds good.\n\nOn Mon, Jan 5, 2026 at 10:00 AM Bob <bob@example.com> wrote:\n> Lunch?\n", "Sounds good.", ""},
		{"wrapped wrote line", "Yes\n\nOn Mon, Jan 5, 2026 at 10:00 AM Bob Long-Name\n<bob@example.com> wrote:\n> Q\n", "Yes", ""},
		{"signature", "Thanks!\n\n-- \nAlice\nACME Inc.\n\n> old\n> text\n", "Thanks!", "Alice\nACME Inc."},
		{"original message", "Fine.\n-----Original Message-----\nFrom: x\n", "Fine.", ""},
		{"outlook", "Ok\n\n________________________________\nFrom: Bob\nSent: today\n", "Ok", ""},
		{"sent from", "On my way\n\nSent from my iPhone\n", "On my way", "Sent from my iPhone"},
		{"interleaved quote kept", "> q1\nanswer 1\n> q2\nanswer 2\n", "> q1\nanswer 1\n> q2\nanswer 2", ""},
	} {
		s, sig := StripReply(tc.in)
		if s != tc.stripped || sig != tc.sig {
			t.Errorf("%s: StripReply = %q, %q; want %q, %q", tc.name, s, sig, tc.stripped, tc.sig)
		}
	}
}

func TestHTML(t *testing.T) {
	t.Parallel()
	in := `<html><head><style>p{}</style></head><body><p>Hi &amp; welcome,</p><div>line<br>two</div>` +
		`<div class="gmail_quote">On Mon Bob wrote:<blockquote>old <b>text</b><br></blockquote></div><script>x()</script></body></html>`
	if got, want := HTMLToText(in), "Hi & welcome,\n\nline\ntwo\n\nOn Mon Bob wrote:\nold text"; got != want {
		t.Errorf("HTMLToText = %q, want %q", got, want)
	}
	if got, want := StripHTMLQuotes(in), `<html><head><style>p{}</style></head><body><p>Hi &amp; welcome,</p><div>line<br>two</div><script>x()</script></body></html>`; got != want {
		t.Errorf("StripHTMLQuotes = %q, want %q", got, want)
	}
}
