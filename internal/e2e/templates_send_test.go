package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailgun/mailgun-go/v4"
)

// TestTemplateSendSDK: a template send through mailgun-go v4.23.0
// (SetTemplate, AddTemplateVariable, SetTemplateVersion, t:text) arrives
// rendered at the MX, and the stored message is the rendered one.
func TestTemplateSendSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		ctx := context.Background()
		content := `<h1>Order {{order.id}}</h1>{{#if vip}}<p>VIP</p>{{else}}<p>regular</p>{{/if}}` +
			`<ul>{{#each order.items}}<li>{{this.name}} x{{this.qty}}</li>{{/each}}</ul>` +
			`{{#equal status "shipped"}}<p>on its way</p>{{/equal}}<p>{{note}}</p><p>{{{raw}}}</p>`
		tpl := mailgun.Template{Name: "order", Version: mailgun.TemplateVersion{Template: "<p>old {{order.id}}</p>"}}
		if err := e.mg.CreateTemplate(ctx, &tpl); err != nil {
			t.Fatalf("CreateTemplate: %v", err)
		}
		if err := e.mg.AddTemplateVersion(ctx, "order", &mailgun.TemplateVersion{Tag: "v2", Template: content}); err != nil {
			t.Fatalf("AddTemplateVersion: %v", err)
		}
		m := mailgun.NewMessage("Shop <shop@"+testDomain+">", "Your order", "", "ada@example.net")
		m.SetTemplate("order")
		m.SetTemplateVersion("v2") // not the active version
		m.SetTemplateRenderText(true)
		for k, v := range map[string]any{
			"order":  map[string]any{"id": 42, "items": []map[string]any{{"name": "tea", "qty": 2}, {"name": "cup", "qty": 1}}},
			"vip":    true,
			"status": "shipped",
			"note":   "<fragile>",
			"raw":    "<b>bold</b>",
		} {
			if err := m.AddTemplateVariable(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := e.mg.Send(ctx, m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := e.mx.WaitRecipients(t, 1, waitTimeout)[0]
		ps := parts(t, got.Data)
		wantHTML := `<h1>Order 42</h1><p>VIP</p><ul><li>tea x2</li><li>cup x1</li></ul><p>on its way</p>` +
			`<p>&lt;fragile&gt;</p><p><b>bold</b></p>`
		if ps["text/html"] != wantHTML {
			t.Fatalf("html part:\n got %q\nwant %q", ps["text/html"], wantHTML)
		}
		if txt := ps["text/plain"]; !strings.Contains(txt, "Order 42") || !strings.Contains(txt, "tea x2") || strings.Contains(txt, "<") && !strings.Contains(txt, "<fragile>") {
			t.Fatalf("text part = %q", txt)
		}
		if s := header(got.Data, "Subject"); s != "Your order" {
			t.Fatalf("Subject = %q", s)
		}
		// The variables travel as custom data too (X-Mailgun-Variables).
		if v := header(got.Data, "X-Mailgun-Variables"); !strings.Contains(v, `"status": "shipped"`) {
			t.Fatalf("X-Mailgun-Variables = %q", v)
		}
		raw := e.storedRaw(header(got.Data, "Message-Id"))
		if !strings.Contains(raw, "Order 42") || strings.Contains(raw, "{{") {
			t.Fatalf("stored message is not the rendered one:\n%s", raw)
		}
	})
}

// storedRaw fetches a stored message's MIME by Message-Id header value.
func (e *sendEnv) storedRaw(msgID string) string {
	e.t.Helper()
	id := strings.Trim(msgID, "<>")
	for _, ev := range e.events(url.Values{"message-id": {id}, "event": {"accepted"}}) {
		if ev.Storage == nil {
			continue
		}
		u := strings.TrimPrefix(ev.Storage.URL, e.app.URL)
		status, body := e.call(http.MethodGet, u, reqBody{}, "Accept", "message/rfc2822")
		if status != http.StatusOK {
			e.t.Fatalf("GET %s = %d %s", u, status, body)
		}
		var sm struct {
			BodyMIME string `json:"body-mime"`
		}
		if err := json.Unmarshal(body, &sm); err == nil && sm.BodyMIME != "" {
			return sm.BodyMIME
		}
		return string(body)
	}
	e.t.Fatalf("no accepted event with storage for %s", id)
	return ""
}

// TestTemplateSendHeadersAndBatch: a template's headers fill From,
// Subject and Reply-To; t:variables wins over v:*; recipient placeholders
// in a template are personalised per recipient of a batch send; errors are
// clear 400s.
func TestTemplateSendHeadersAndBatch(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/templates", formBody(url.Values{
		"name": {"news"}, "template": {`<p>Dear %recipient.first%, {{topic}} by {{who}}</p>`},
		"headers": {`{"From":"News <news@` + testDomain + `>","Subject":"About {{topic}}","Reply-To":"desk@` + testDomain + `"}`},
	}))
	if status != http.StatusOK {
		t.Fatalf("create template = %d %s", status, body)
	}
	e.send(url.Values{
		"to":                  {"a@example.net", "b@example.net"},
		"template":            {"news"},
		"v:topic":             {"from v"},
		"v:who":               {"Ann"},
		"t:variables":         {`{"topic":"Go"}`},
		"recipient-variables": {`{"a@example.net":{"first":"Al"},"b@example.net":{"first":"Bo"}}`},
	})
	got := e.mx.WaitRecipients(t, 2, waitTimeout)
	for _, r := range got {
		first := map[string]string{"a@example.net": "Al", "b@example.net": "Bo"}[r.To[0]]
		html := strings.TrimRight(parts(t, r.Data)["text/html"], "\r\n")
		if html != "<p>Dear "+first+", Go by Ann</p>" {
			t.Errorf("%s got %q", r.To[0], html)
		}
		if s := header(r.Data, "Subject"); s != "About Go" {
			t.Errorf("Subject = %q", s)
		}
		if f := header(r.Data, "From"); !strings.Contains(f, "news@"+testDomain) {
			t.Errorf("From = %q", f)
		}
		if rt := header(r.Data, "Reply-To"); rt != "desk@"+testDomain {
			t.Errorf("Reply-To = %q", rt)
		}
	}
	for _, c := range []struct {
		v    url.Values
		want string
	}{
		{url.Values{"template": {"absent"}}, "template absent not found"},
		{url.Values{"template": {"news"}, "t:version": {"v9"}}, "version v9 of template news not found"},
		{url.Values{"template": {"news"}, "t:variables": {"{not json"}}, "'t:variables' parameter is not a valid JSON object"},
		{url.Values{"template": {"news"}, "html": {"<p>x</p>"}}, "Only one parameters 'html' or 'template' is allowed"},
		{url.Values{"t:version": {"v1"}, "text": {"x"}, "from": {"a@" + testDomain}, "subject": {"s"}}, "'t:version' needs the 'template' parameter"},
	} {
		c.v.Set("to", "c@example.net")
		status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(c.v))
		if status != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("send %v = %d %s, want 400 %q", c.v, status, body, c.want)
		}
	}
}

// TestTemplateSendMIME: /messages.mime with `template` keeps the uploaded
// header and replaces the body with the rendered template (and its text
// version with t:text), variables from X-Mailgun-Template-Variables.
func TestTemplateSendMIME(t *testing.T) {
	t.Parallel()
	e := startSendEnv(t, sendEnvOptions{})
	status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/templates", formBody(url.Values{
		"name": {"mime"}, "template": {`<p>Hello {{who}}</p>`}, "headers": {`{"Subject":"Hi {{who}}"}`}}))
	if status != http.StatusOK {
		t.Fatalf("create template = %d %s", status, body)
	}
	mime := "From: a@" + testDomain + "\r\nTo: z@example.net\r\nX-Keep: yes\r\nContent-Type: text/plain\r\n\r\nignored body\r\n"
	status, body = e.call(http.MethodPost, "/v3/"+testDomain+"/messages.mime", multipartBody(url.Values{
		"to": {"z@example.net"}, "template": {"mime"}, "t:text": {"yes"},
		"h:X-Mailgun-Template-Variables": {`{"who":"Zoe"}`}},
		upload{field: "message", name: "message.mime", data: []byte(mime)}))
	if status != http.StatusOK {
		t.Fatalf("send mime = %d %s", status, body)
	}
	got := e.mx.WaitRecipients(t, 1, waitTimeout)[0]
	ps := parts(t, got.Data)
	if ps["text/html"] != "<p>Hello Zoe</p>" || !strings.Contains(ps["text/plain"], "Hello Zoe") || strings.Contains(string(got.Data), "ignored body") {
		t.Fatalf("parts = %q", ps)
	}
	if header(got.Data, "X-Keep") != "yes" || header(got.Data, "Subject") != "Hi Zoe" {
		t.Fatalf("header not kept or subject not filled:\n%s", got.Data)
	}
}
