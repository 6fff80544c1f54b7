package templates

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/fault"
)

// TestRenderMailgunExamples renders the examples of Mailgun's templates
// manual (user_manual.rst, "Handlebars") with the JSON data it gives, and
// the Handlebars basics a template relies on.
func TestRenderMailgunExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tpl, data, want string
	}{
		{"if", `{{#if english}}EN{{else if spanish}}ES{{else if french}}FR{{/if}}`, `{"spanish": "true"}`, "ES"},
		{"if none", `{{#if english}}EN{{else if spanish}}ES{{/if}}`, `{}`, ""},
		{"if false", `{{#if english}}EN{{else}}other{{/if}}`, `{"english": false}`, "other"},
		{"unless", `{{#unless paid}}WARNING{{/unless}}`, `{}`, "WARNING"},
		{"unless paid", `{{#unless paid}}WARNING{{/unless}}`, `{"paid": true}`, ""},
		{"each", `{{#each user.services}}<li>You scheduled {{this.service}} on {{this.date}}</li>{{/each}}`,
			`{"user":{"services":[{"date":"07/30/2019","service":"deliverability consultation"},{"date":"08/05/2019","service":"sales consultation"}]}}`,
			`<li>You scheduled deliverability consultation on 07/30/2019</li><li>You scheduled sales consultation on 08/05/2019</li>`},
		{"each index", `{{#each items}}{{@index}}:{{this}} {{/each}}`, `{"items":["a","b"]}`, "0:a 1:b "},
		{"with", `{{#with author}}{{first}} {{last}}{{/with}}`, `{"author":{"first":"Ada","last":"Lovelace"}}`, "Ada Lovelace"},
		{"equal", `<p>{{#equal foo "bar"}}foo is bar{{/equal}}</p>` +
			`<p>{{#equal foo baz}}foo is the same as baz{{/equal}}</p>` +
			`<p>{{#equal nb 0}}nothing{{/equal}}</p>` +
			`<p>{{#equal nb 1}}there is one{{/equal}}</p>` +
			`<p>{{#equal nb "1"}}everything is stringified before comparison{{/equal}}</p>`,
			`{"foo": "bar", "baz": "bar", "nb": 1}`,
			`<p>foo is bar</p><p>foo is the same as baz</p><p></p><p>there is one</p><p>everything is stringified before comparison</p>`},
		{"nested", `{{user.address.city}}, {{user.address.zip}}`, `{"user":{"address":{"city":"Paris","zip":75001}}}`, "Paris, 75001"},
		{"missing", `Hello {{name}}!{{a.b.c}}`, `{}`, "Hello !"},
		{"escaped", `{{v}}`, `{"v":"<b>Tom & \"Jerry\"</b>"}`, "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"},
		{"triple stash", `{{{v}}}`, `{"v":"<b>Tom & Jerry</b>"}`, "<b>Tom & Jerry</b>"},
		{"batch placeholders survive", `Hi %recipient.first%, {{greeting}}`, `{"greeting":"welcome"}`, "Hi %recipient.first%, welcome"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var vars map[string]any
			if err := json.Unmarshal([]byte(c.data), &vars); err != nil {
				t.Fatal(err)
			}
			got, err := Render(c.tpl, vars)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != c.want {
				t.Fatalf("Render(%q, %s)\n got %q\nwant %q", c.tpl, c.data, got, c.want)
			}
		})
	}
}

func TestRenderBadSyntax(t *testing.T) {
	t.Parallel()
	for _, tpl := range []string{"{{#if x}}open", "{{#each}}{{/each}}{{", "{{/if}}"} {
		_, err := Render(tpl, nil)
		we, ok := fault.As(err)
		if !ok || we.Kind != fault.Invalid || !strings.Contains(we.Message, "not valid Handlebars") {
			t.Errorf("Render(%q) = %v, want a 400 about the syntax", tpl, err)
		}
		if Check(tpl) == nil {
			t.Errorf("Check(%q) accepted bad syntax", tpl)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	doc := `<html><head><title>T</title><style>p{color:red}</style></head><body>
<h1>Hello  Ada</h1><p>Your order &amp; invoice:<br>ready.</p>
<p>See <a href="https://example.com/o/1">your order</a> or <a href="#top">top</a>.</p>
<script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>`
	want := "Hello Ada\n\nYour order & invoice:\nready.\n\nSee your order (https://example.com/o/1) or top.\n\none\ntwo\n"
	if got := Text(doc); got != want {
		t.Fatalf("Text:\n got %q\nwant %q", got, want)
	}
}
