package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
)

// valid returns a minimal valid /messages request changed by edit.
func valid(edit func(v url.Values)) url.Values {
	v := url.Values{"from": {"sender@" + testDomain}, "to": {"a@dest.example"}, "subject": {"s"}, "text": {"t"}}
	if edit != nil {
		edit(v)
	}
	return v
}

func set(name string, values ...string) func(url.Values) {
	return func(v url.Values) { v[name] = values }
}

func del(name string) func(url.Values) {
	return func(v url.Values) { v.Del(name) }
}

// TestSendBadInput sends every kind of bad request of docs/mailgun-contract.md §2.4 and
// checks the status, Mailgun's exact text, and that nothing was stored or
// delivered.
func TestSendBadInput(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{configure: func(c *config.Config) {
		c.MaxMessageBytes = 4096
		c.MaxRequestBytes = 1 << 20
	}})
	const msgs, mime = "/v3/" + testDomain + "/messages", "/v3/" + testDomain + "/messages.mime"
	manyTo := make([]string, 600)
	manyCc := make([]string, 401)
	for i := range manyTo {
		manyTo[i] = "r" + strconv.Itoa(i) + "@dest.example"
	}
	for i := range manyCc {
		manyCc[i] = "c" + strconv.Itoa(i) + "@dest.example"
	}
	rawMessage := []byte("From: sender@" + testDomain + "\r\nTo: a@dest.example\r\nSubject: s\r\n\r\nbody\r\n")
	cet := "Fri, 02 Jan 2026 10:00:00 CET"
	farAhead := e.clock.Now().Add(73 * time.Hour).Format("Mon, 2 Jan 2006 15:04:05 -0700")
	cases := []struct {
		name   string
		path   string
		body   reqBody
		status int
		text   string // exact message; a trailing "…" makes it a prefix
	}{
		{"from missing", msgs, formBody(valid(del("from"))), 400, "from parameter is missing"},
		{"from empty (mailgun-go)", msgs, multipartBody(valid(set("from", ""))), 400, "from parameter is missing"},
		{"to missing", msgs, formBody(valid(del("to"))), 400, "to parameter is missing"},
		{"invalid to", msgs, formBody(valid(set("to", "not-an-address"))), 400, "to parameter is not a valid address. please check documentation (\"not-an-address\")"},
		{"invalid to in a list", msgs, formBody(valid(set("to", "a@dest.example, b@"))), 400, "to parameter is not a valid address. please check documentation (\"b@\")"},
		{"invalid cc", msgs, formBody(valid(set("cc", "Bob <bob>"))), 400, "cc parameter is not a valid address. please check documentation (\"Bob <bob>\")"},
		{"invalid bcc", msgs, formBody(valid(set("bcc", "@dest.example"))), 400, "bcc parameter is not a valid address. please check documentation (\"@dest.example\")"},
		{"invalid from", msgs, formBody(valid(set("from", "nobody"))), 400, "from parameter is not a valid address. please check documentation (\"nobody\")"},
		{"no content", msgs, formBody(valid(del("text"))), 400, "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"},
		{"empty content (mailgun-go)", msgs, multipartBody(valid(set("text", ""))), 400, "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"},
		{"html and template", msgs, formBody(valid(func(v url.Values) { v.Set("html", "<p>x</p>"); v.Set("template", "welcome") })), 400, "Only one parameters 'html' or 'template' is allowed"},
		{"1001 recipients", msgs, formBody(valid(func(v url.Values) { v["to"] = manyTo; v["cc"] = manyCc })), 400, "Too many recipients, max is 1000"},
		{"options over 16 kB", msgs, formBody(valid(func(v url.Values) {
			v.Set("v:a", strings.Repeat("x", 8000))
			v.Set("h:X-B", strings.Repeat("y", 8000))
			v.Set("o:tag", strings.Repeat("z", 500))
		})), 400, "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total"},
		{"non-ASCII header name", msgs, formBody(valid(set("h:X-Tést", "1"))), 400, "Header name must be pure ASCII: X-Tést"},
		{"deliverytime not a date", msgs, formBody(valid(set("o:deliverytime", "tomorrow"))), 400, "tomorrow is not an RFC-2822 compliant date…"},
		{"deliverytime in CET", msgs, formBody(valid(set("o:deliverytime", cet))), 400, cet + " is not an RFC-2822 compliant date…"},
		{"deliverytime beyond 3 days", msgs, formBody(valid(set("o:deliverytime", farAhead))), 400, "o:deliverytime…"},
		{"recipient-variables not JSON", msgs, formBody(valid(set("recipient-variables", `{"a@dest.example": {`))), 400, "'recipient-variables' parameter is not a valid JSON"},
		{"attachment not a file", msgs, formBody(valid(set("attachment", "data"))), 400, "'attachment' parameter is not a file"},
		{"bad boolean option", msgs, formBody(valid(set("o:testmode", "perhaps"))), 400, "'o:testmode' parameter must be yes, no, true or false…"},
		{"invalid URL escape", msgs, reqBody{"application/x-www-form-urlencoded", []byte("from=a%zz&to=b")}, 400, "unable to parse request: invalid URL escape"},
		{"multipart without boundary", msgs, reqBody{"multipart/form-data", []byte("x")}, 400, "malformed multipart/form-data request"},
		{"message too large", msgs, formBody(valid(set("text", strings.Repeat("long line of text\n", 300)))), 413, "message size…"},
		{"request too large (form)", msgs, formBody(valid(set("text", strings.Repeat("x", 1<<20)))), 413, "request size exceeds 52.4MiB limit"},
		{"request too large (multipart)", msgs, multipartBody(valid(nil), upload{"attachment", "big.bin", make([]byte, 1<<20)}), 413, "request size exceeds 52.4MiB limit"},
		{"unknown domain", "/v3/x.example/messages", formBody(valid(nil)), 404, "Domain not found: x.example"},
		{"mime urlencoded", mime, formBody(url.Values{"to": {"a@dest.example"}, "message": {string(rawMessage)}}), 400,
			"Invalid request content type. Expecting 'multipart/form-data' but got 'application/x-www-form-urlencoded'"},
		{"mime without message", mime, multipartBody(url.Values{"to": {"a@dest.example"}}), 400, "message parameter is missing"},
		{"mime without to", mime, multipartBody(nil, upload{"message", "message.mime", rawMessage}), 400, "to parameter is missing"},
		{"mime not a message", mime, multipartBody(url.Values{"to": {"a@dest.example"}}, upload{"message", "m", []byte("no header here\x00")}), 400, "message is not a valid MIME message…"},
		{"mime too large", mime, multipartBody(url.Values{"to": {"a@dest.example"}}, upload{"message", "m", append(rawMessage, make([]byte, 5000)...)}), 413, "message size…"},
		{"mime unknown domain", "/v3/x.example/messages.mime", multipartBody(url.Values{"to": {"a@dest.example"}}, upload{"message", "m", rawMessage}), 404, "Domain not found: x.example"},
	}
	for _, c := range cases {
		status, body := e.call(http.MethodPost, c.path, c.body)
		var m struct {
			Message string `json:"message"`
		}
		err := json.Unmarshal(body, &m)
		want, prefix := strings.CutSuffix(c.text, "…")
		if status != c.status || err != nil || (prefix && !strings.HasPrefix(m.Message, want)) || (!prefix && m.Message != want) {
			t.Errorf("%s: %d %s, want %d {\"message\": %q}", c.name, status, body, c.status, c.text)
		}
		e.assertNothingStored(c.name)
	}

	// Bad credentials on the send endpoints: 401 with the text "Forbidden".
	for _, path := range []string{msgs, mime} {
		req, _ := http.NewRequest(http.MethodPost, e.app.URL+path, strings.NewReader(valid(nil).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("api", "key-wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		_, _ = io.Copy(&buf, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || buf.String() != "Forbidden" {
			t.Errorf("bad key on %s = %d %q, want 401 Forbidden", path, resp.StatusCode, buf.String())
		}
	}
	time.Sleep(300 * time.Millisecond) // give a wrongly queued message time to show up
	e.assertNothingStored("after every bad request")
}
