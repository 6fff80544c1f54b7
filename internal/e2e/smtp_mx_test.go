package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/dkim"
	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/webhooks"
)

// TestMXNoOpenRelay: the MX takes mail only for domains of its region: an
// unknown domain and a domain of the other region (one global store, two
// regions) are refused with 550 5.7.1; it offers STARTTLS but no AUTH.
func TestMXNoOpenRelay(t *testing.T) {
	t.Parallel()
	global := testutil.PostgresMigrated(t, "global")
	const secretValue = "shared-secret-of-both-regions-0123"
	regions := map[string]*testutil.TestApp{}
	for _, region := range []string{"us", "eu"} {
		regions[region] = testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) {
			c.Region, c.GlobalDatabaseURL, c.Secret = region, global, secretValue
		}})
	}
	us, eu := regions["us"], regions["eu"]
	us.Call(t, http.MethodPost, "/v3/domains", us.Key, testutil.Form(url.Values{"name": {"us.example.com"}})).Want(t, http.StatusOK)
	eu.Call(t, http.MethodPost, "/v3/domains", us.Key, testutil.Form(url.Values{"name": {"eu.example.com"}})).Want(t, http.StatusOK)

	c := dialSMTP(t, us.MXAddr(), "plain")
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("the MX does not offer STARTTLS")
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("the MX offers AUTH")
	}
	if err := c.Mail("someone@elsewhere.org", nil); err != nil {
		t.Fatal(err)
	}
	wantSMTPError(t, "unknown domain", c.Rcpt("x@unknown.example", nil), 550, "5.7.1", "Relaying denied")
	wantSMTPError(t, "the other region's domain", c.Rcpt("x@eu.example.com", nil), 550, "5.7.1", "Relaying denied")
	wantSMTPError(t, "gmail", c.Rcpt("victim@gmail.com", nil), 550, "5.7.1", "Relaying denied")
	if err := c.Rcpt("x@US.example.com", nil); err != nil {
		t.Errorf("this region's domain refused: %v", err)
	}
	e := dialSMTP(t, eu.MXAddr(), "starttls")
	if err := e.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Rcpt("x@eu.example.com", nil); err != nil {
		t.Errorf("the EU MX refuses its own domain: %v", err)
	}
	wantSMTPError(t, "EU MX, US domain", e.Rcpt("x@us.example.com", nil), 550, "5.7.1", "Relaying denied")
}

// inboundFixture is the message the route tests send: text with a quoted
// reply and a signature, HTML with a blockquote, an inline image with a
// Content-ID and a binary attachment, DKIM-signed by sender.example.
type inboundFixture struct {
	raw              []byte
	text, html       string
	image, attached  []byte
	imageID, dkimSel string
}

func newInboundFixture(t *testing.T, e *mxEnv) inboundFixture {
	t.Helper()
	f := inboundFixture{
		text:     "Thanks, that works.\r\n\r\n-- \r\nJane\r\n\r\nOn Mon, Jan 5, 2026 at 10:00 AM Bob <bob@mg.example.com> wrote:\r\n> Does it work?\r\n",
		html:     `<p>Thanks, that works.</p><blockquote>Does it work?</blockquote>`,
		image:    randomBytes(t, 3000),
		attached: randomBytes(t, 5000),
		dkimSel:  "s1",
	}
	from, _ := netmail.ParseAddress("Jane <jane@sender.example>")
	to, _ := netmail.ParseAddress("support@" + testDomain)
	raw, err := mail.Build(mail.Spec{From: from, To: []*netmail.Address{to}, Subject: "Report: übersicht", Text: f.text,
		HTML: f.html, Inline: []mail.Part{{Filename: "logo.png", ContentType: "image/png", Data: f.image}},
		Attachments: []mail.Part{{Filename: "data.bin", ContentType: "application/octet-stream", Data: f.attached}},
		MessageID:   "fixture-1@sender.example", Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	f.imageID = contentIDOf(t, raw, "logo.png")
	key, err := dkim.GenerateKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := dkim.PublicValue(key)
	e.dns.Add(t, `s1._domainkey.sender.example. 300 IN TXT "`+dkim.RecordValue(pub)+`"`,
		`sender.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.sender.example -all"`,
		`_spf.sender.example. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`)
	var signed bytes.Buffer
	if err := msgdkim.Sign(&signed, bytes.NewReader(raw), &msgdkim.SignOptions{Domain: "sender.example", Selector: "s1", Signer: key}); err != nil {
		t.Fatal(err)
	}
	f.raw = signed.Bytes()
	return f
}

// contentIDOf finds the Content-ID mail.Build gave an inline file.
func contentIDOf(t *testing.T, raw []byte, filename string) string {
	t.Helper()
	p, err := mail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		if f.Filename == filename && f.ContentID != "" {
			return f.ContentID
		}
	}
	t.Fatalf("%s has no Content-ID", filename)
	return ""
}

// TestMXForwardPost is the route path end to end: a message received by
// the MX is forwarded to a real HTTP server as Mailgun's parsed POST and
// as the raw "mime" variant, signed (webhooks.Verify and mailgun-go's
// VerifyWebhookRequest), its fields and files equal to what was sent;
// stop() ends the evaluation and catch_all() does not run after a match.
func TestMXForwardPost(t *testing.T) {
	t.Parallel()
	e := startMXEnv(t, nil)
	f := newInboundFixture(t, e)
	routeID := e.route(1, `match_recipient("(?P<box>[^@]+)@mg\.example\.com") and match_header("subject", "Report")`,
		`forward("`+e.hook.URL+`/parsed?box=\g<box>", "`+e.hook.URL+`/post_mime")`, "stop()")
	e.route(5, `match_recipient(".*")`, `forward("`+e.hook.URL+`/after-stop")`)
	e.route(9, `catch_all()`, `forward("`+e.hook.URL+`/catch")`)

	if err := e.deliverMX("bounce@sender.example", []string{"support@" + testDomain}, f.raw); err != nil {
		t.Fatalf("MX: %v", err)
	}
	parsed := e.hook.waitPosts(t, "/parsed", 1)[0]
	raw := e.hook.waitPosts(t, "/post_mime", 1)[0]
	key, err := e.app.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mg := mailgun.NewMailgun(testDomain, e.app.Key)
	mg.SetWebhookSigningKey(key)
	for _, p := range []hookPost{parsed, raw} {
		sig := webhooks.Signature{Timestamp: p.Form.Get("timestamp"), Token: p.Form.Get("token"), Signature: p.Form.Get("signature")}
		if !webhooks.Verify([]byte(key), sig) {
			t.Errorf("POST %s: signature does not verify", p.Path)
		}
		if ok, err := mg.VerifyWebhookRequest(p.request(t)); !ok || err != nil {
			t.Errorf("POST %s: mailgun-go VerifyWebhookRequest = %v, %v", p.Path, ok, err)
		}
		if p.Form.Get("recipient") != "support@"+testDomain || p.Form.Get("sender") != "bounce@sender.example" ||
			p.Form.Get("subject") != "Report: übersicht" || p.Form.Get("from") != `"Jane" <jane@sender.example>` && p.Form.Get("from") != "Jane <jane@sender.example>" {
			t.Errorf("POST %s envelope fields: %v", p.Path, p.Form)
		}
	}
	if parsed.Path != "/parsed?box=support" {
		t.Errorf("the named capture was not substituted: POST to %s", parsed.Path)
	}
	checkParsedFields(t, parsed, f)
	if bm := raw.Form.Get("body-mime"); !strings.HasSuffix(bm, string(f.raw)) || !strings.Contains(bm, "X-Mailgun-Incoming: Yes") {
		t.Errorf("body-mime is not the received message (trace fields, then the message byte for byte)")
	}
	if len(raw.Files) != 0 || raw.Form.Get("body-plain") != "" {
		t.Errorf("the mime variant carries parsed fields or files: %v", raw.Form)
	}
	delivered := e.waitEvents("delivered", 2)
	accepted := e.events(url.Values{"event": {"accepted"}})
	if len(accepted) != 1 || accepted[0].Flags == nil || !accepted[0].Flags.IsRouted || len(accepted[0].Routes) != 1 ||
		accepted[0].Routes[0].ID != routeID || accepted[0].Method != "smtp" {
		t.Errorf("accepted events: %+v; want one, routed by %s", accepted, routeID)
	}
	if len(delivered) != 2 {
		t.Errorf("delivered events: %d, want 2 (one per POST)", len(delivered))
	}
	time.Sleep(200 * time.Millisecond) // a POST after stop() would have been made by now
	if n := len(e.hook.postsTo("/after-stop")) + len(e.hook.postsTo("/catch")); n != 0 {
		t.Errorf("%d POSTs from routes after stop() or catch_all()", n)
	}
}

// checkParsedFields compares the parsed POST with the fixture.
func checkParsedFields(t *testing.T, p hookPost, f inboundFixture) {
	t.Helper()
	form := p.Form
	want := map[string]string{
		"body-plain": f.text, "stripped-text": "Thanks, that works.", "stripped-signature": "Jane",
		"body-html": f.html, "stripped-html": "<p>Thanks, that works.</p>", "attachment-count": "2",
		"X-Mailgun-Incoming": "Yes", "X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Pass",
		"X-Envelope-From": "<bounce@sender.example>", "Subject": "Report: übersicht", "Message-Id": "<fixture-1@sender.example>",
		"content-id-map": `{"<` + f.imageID + `>":"attachment-1"}`,
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("field %s = %q, want %q", k, got, v)
		}
	}
	for name, w := range map[string]hookFile{
		"attachment-1": {Name: "logo.png", ContentType: "image/png", Data: f.image},
		"attachment-2": {Name: "data.bin", ContentType: "application/octet-stream", Data: f.attached},
	} {
		got := p.Files[name]
		if got.Name != w.Name || got.ContentType != w.ContentType || !bytes.Equal(got.Data, w.Data) {
			t.Errorf("%s = %s %s %d bytes, want %s %s %d bytes (byte for byte)", name, got.Name, got.ContentType,
				len(got.Data), w.Name, w.ContentType, len(w.Data))
		}
	}
	var headers [][]string
	if err := json.Unmarshal([]byte(form.Get("message-headers")), &headers); err != nil {
		t.Fatalf("message-headers is not a JSON array of pairs: %v", err)
	}
	names := map[string]bool{}
	for _, h := range headers {
		if len(h) != 2 {
			t.Fatalf("message-headers entry %v is not a pair", h)
		}
		names[h[0]] = true
	}
	for _, n := range []string{"Received", "Authentication-Results", "Dkim-Signature", "From", "To", "Subject", "Message-Id", "Content-Type"} {
		if !names[n] {
			t.Errorf("message-headers lacks %s: %v", n, headers)
		}
	}
	fm := mailgun.ExtractForwardedMessage(url.Values(form))
	if fm.BodyPlain != f.text || fm.Recipient != "support@"+testDomain || fm.MessageHeaders["X-Mailgun-Incoming"] != "Yes" ||
		fm.Timestamp.IsZero() {
		t.Errorf("mailgun-go ExtractForwardedMessage = %+v", fm)
	}
}
