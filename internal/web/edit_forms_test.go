package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/templates"
)

// refused posts a form that must be refused and returns the error and
// the page it goes back to, read once (the flash is one-time).
func (c *client) refused(path string, form url.Values) (string, string) {
	c.t.Helper()
	p := c.post(path, form)
	if p.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST %s answered %d, want 303\n%s", path, p.StatusCode, p.Body)
	}
	next := c.get(p.Header.Get("Location"))
	m := regexp.MustCompile(`id="form-error">([^<]*)<`).FindStringSubmatch(next.Body)
	if m == nil {
		c.t.Fatalf("POST %s: no error on %s\n%s", path, p.Header.Get("Location"), next.Body)
	}
	return html.UnescapeString(m[1]), next.Body
}

var (
	inputRE = regexp.MustCompile(`<input((?:\s+[a-z_-]+(?:="[^"]*"|='[^']*')?)*)\s*>`)
	attrRE  = regexp.MustCompile(`\s+([a-z_-]+)(?:="([^"]*)"|='([^']*)')?`)
)

// input is the attributes of the input with id in body.
func input(t *testing.T, body, id string) map[string]string {
	t.Helper()
	for _, m := range inputRE.FindAllStringSubmatch(body, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2] + a[3])
		}
		if attrs["id"] == id {
			return attrs
		}
	}
	t.Fatalf("no input %s in\n%s", id, body)
	return nil
}

// field is the value of the input with id, or the text of the textarea
// with id, as the browser reads it.
func field(t *testing.T, body, id string) string {
	t.Helper()
	if m := regexp.MustCompile(`(?s)<textarea id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body); m != nil {
		return strings.TrimSuffix(html.UnescapeString(m[1]), "\n")
	}
	return input(t, body, id)["value"]
}

// ticked reports whether the checkbox or radio with id is checked.
func ticked(t *testing.T, body, id string) bool {
	t.Helper()
	_, ok := input(t, body, id)["checked"]
	return ok
}

// TestEditRouteKeepsTyped: a refused route edit shows the typed priority,
// expression, actions and description with the error; the route is
// unchanged and the next visit shows it as stored.
func TestEditRouteKeepsTyped(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	id := "5f2b7c1e00000000000000aa"
	if err := d.Regional.CreateRoute(context.Background(), store.Route{ID: id, Priority: 3, Expression: `match_recipient("a@.*")`,
		Actions: []string{"stop()"}, Description: "stored", CreatedAt: time.Now().UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	path := "/dashboard/routes/" + id
	msg, body := c.refused(path, url.Values{"csrf": {tok}, "priority": {"7"}, "expression": {`match_recipient("<typed>@.*"`},
		"actions": {"store()\nstop()"}, "description": {"typed & kept"}})
	if !strings.Contains(msg, "Invalid expression") {
		t.Errorf("error = %q", msg)
	}
	for id, want := range map[string]string{"route-priority": "7", "route-expression": `match_recipient("<typed>@.*"`,
		"route-actions": "store()\nstop()", "route-description": "typed & kept"} {
		if got := field(t, body, id); got != want {
			t.Errorf("after the refusal %s = %q, want the typed %q", id, got, want)
		}
	}
	if strings.Contains(body, "<typed>") {
		t.Error("the typed value is not escaped")
	}
	r, err := d.Regional.Route(context.Background(), id)
	if err != nil || r.Priority != 3 || r.Description != "stored" {
		t.Fatalf("the refused edit changed the route: %+v, %v", r, err)
	}
	body = c.get(path).Body
	if got := field(t, body, "route-expression"); got != `match_recipient("a@.*")` {
		t.Errorf("the next visit shows %q, not the stored expression", got)
	}
	if got := field(t, body, "route-priority"); got != "3" {
		t.Errorf("the next visit shows priority %q, want 3", got)
	}
}

// TestEditListKeepsTyped: a refused list edit shows the typed address,
// name, description and choices; the add-member form on the same page
// does not take them; a refused member add keeps its own fields.
func TestEditListKeepsTyped(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	addr := "news@" + testDomain
	if _, err := d.Lists.Create(context.Background(), lists.ListInput{Address: &addr}); err != nil {
		t.Fatal(err)
	}
	path := "/dashboard/lists/" + addr
	msg, body := c.refused(path, url.Values{"csrf": {tok}, "address": {"not an address"}, "name": {"Typed name"},
		"description": {"typed description"}, "access_level": {"everyone"}, "reply_preference": {"sender"}})
	if msg == "" {
		t.Fatal("no error")
	}
	for id, want := range map[string]string{"list-address": "not an address", "list-name": "Typed name",
		"list-description": "typed description", "member-address": "", "member-name": ""} {
		if got := field(t, body, id); got != want {
			t.Errorf("after a refused list edit %s = %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(body, `<option value="everyone" selected>`) || !strings.Contains(body, `<option value="sender" selected>`) {
		t.Errorf("the typed choices are not selected:\n%s", body)
	}
	if l, err := d.Lists.Get(context.Background(), addr); err != nil || l.Name != "" || l.AccessLevel != "readonly" {
		t.Fatalf("the refused edit changed the list: %+v, %v", l, err)
	}
	// A refused member add keeps its fields, not the list form's.
	msg, body = c.refused(path+"/members", url.Values{"csrf": {tok}, "_form": {"member-add"}, "address": {"alice@example.org"},
		"name": {"Alice"}, "vars": {"{not json"}})
	if msg == "" {
		t.Fatal("no error for bad vars")
	}
	for id, want := range map[string]string{"member-address": "alice@example.org", "member-name": "Alice", "member-vars": "{not json",
		"list-address": addr} {
		if got := field(t, body, id); got != want {
			t.Errorf("after a refused member add %s = %q, want %q", id, got, want)
		}
	}
	if ticked(t, body, "member-subscribed") {
		t.Error("the member add's Subscribed was not ticked, but the page shows it ticked")
	}
}

// TestEditMemberKeepsTyped: a refused member edit shows the typed name,
// vars and the unticked Subscribed, and the stored member after.
func TestEditMemberKeepsTyped(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	addr, member := "team@"+testDomain, "bob@example.org"
	ctx := context.Background()
	if _, err := d.Lists.Create(ctx, lists.ListInput{Address: &addr}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lists.AddMembers(ctx, addr, []store.Member{{Address: member, Name: "Bob", Subscribed: true, Vars: map[string]any{}}}, false); err != nil {
		t.Fatal(err)
	}
	path := "/dashboard/lists/" + addr + "/members/" + member
	msg, body := c.refused(path, url.Values{"csrf": {tok}, "_form": {"member-edit"}, "name": {"Robert"}, "vars": {`{"a": `}})
	if msg == "" {
		t.Fatal("no error")
	}
	if got := field(t, body, "member-name"); got != "Robert" {
		t.Errorf("name = %q, want the typed Robert", got)
	}
	if got := field(t, body, "member-vars"); got != `{"a": ` {
		t.Errorf("vars = %q, want the typed ones", got)
	}
	if ticked(t, body, "member-subscribed") {
		t.Error("Subscribed was unticked in the refused form but shows ticked")
	}
	body = c.get(path).Body
	if got := field(t, body, "member-name"); got != "Bob" || !ticked(t, body, "member-subscribed") {
		t.Errorf("the next visit shows %q (ticked %v), not the stored member", got, ticked(t, body, "member-subscribed"))
	}
}

// TestEditTrackingKeepsTyped: a refused Tracking save (no click choice)
// shows the typed checkboxes and footers.
func TestEditTrackingKeepsTyped(t *testing.T) {
	t.Parallel()
	_, c, tok := withDomain(t)
	msg, body := c.refused(trackingPath, url.Values{"csrf": {tok}, "_form": {"tracking"}, "open": {"on"}, "unsubscribe": {"on"},
		"html_footer": {"<p>typed footer</p>"}, "text_footer": {"typed text"}})
	if !strings.Contains(msg, "Choose how clicks are tracked") {
		t.Errorf("error = %q", msg)
	}
	if !ticked(t, body, "open") || !ticked(t, body, "unsubscribe") || ticked(t, body, "open-top") {
		t.Error("the checkboxes do not show what was ticked")
	}
	if ticked(t, body, "click-off") || ticked(t, body, "click-on") || ticked(t, body, "click-htmlonly") {
		t.Error("a click choice shows chosen, but none was")
	}
	if got := field(t, body, "html-footer"); got != "<p>typed footer</p>" {
		t.Errorf("html footer = %q", got)
	}
	if got := field(t, body, "text-footer"); got != "typed text" {
		t.Errorf("text footer = %q", got)
	}
	body = c.get(trackingPath).Body
	if ticked(t, body, "open") || !ticked(t, body, "click-off") {
		t.Error("the next visit does not show the stored settings")
	}
}

// TestEditWebhookKeepsTyped: a refused URL replacement opens that URL's
// Replace form with the typed URL; the other URL's form keeps its own.
func TestEditWebhookKeepsTyped(t *testing.T) {
	t.Parallel()
	_, c, tok := withDomain(t)
	base := "/dashboard/domains/" + testDomain + "/settings/webhooks"
	for _, u := range []string{"https://hooks.example.com/1", "https://hooks.example.com/2"} {
		if got := c.flashError(c.post(base, url.Values{"csrf": {tok}, "kind": {"delivered"}, "url": {u}})); got != "" {
			t.Fatalf("add %s: %s", u, got)
		}
	}
	msg, body := c.refused(base+"/replace", url.Values{"csrf": {tok}, "kind": {"delivered"}, "url": {"https://hooks.example.com/2"},
		"_form": {"replace delivered https://hooks.example.com/2"}, "new_url": {"ftp://typed.example.com/"}})
	if !strings.Contains(msg, "not a valid url") {
		t.Errorf("error = %q", msg)
	}
	if got := field(t, body, "replace-delivered-1"); got != "ftp://typed.example.com/" {
		t.Errorf("the refused Replace shows %q, want the typed URL", got)
	}
	if got := field(t, body, "replace-delivered-0"); got != "https://hooks.example.com/1" {
		t.Errorf("the other Replace shows %q", got)
	}
	if n := strings.Count(body, `<details class="replace" open>`); n != 1 {
		t.Errorf("%d Replace forms open, want the refused one", n)
	}
}

// TestEditPoolAndTemplateKeepTyped: a refused IP pool save and a refused
// template version save show what was typed.
func TestEditPoolAndTemplateKeepTyped(t *testing.T) {
	t.Parallel()
	d, c, tok := withDomain(t)
	ctx := context.Background()
	poolID := "0123456789abcdef012345aa"
	if err := d.Regional.CreateIPPool(ctx, store.IPPool{ID: poolID, Name: "stored pool", Description: "stored", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	msg, body := c.refused("/dashboard/ips/pools/"+poolID, url.Values{"csrf": {tok}, "_form": {"pool-edit"}, "name": {""},
		"description": {"typed description"}})
	if msg == "" {
		t.Fatal("no error for an empty name")
	}
	if got := field(t, body, "pool-name"); got != "" {
		t.Errorf("pool name = %q, want the emptied field", got)
	}
	if got := field(t, body, "pool-description"); got != "typed description" {
		t.Errorf("pool description = %q", got)
	}

	if _, err := d.Templates.Create(ctx, testDomain, "welcome", "", "", &templates.VersionInput{Tag: "v1", Content: "<p>{{x}}</p>", Comment: "first"}); err != nil {
		t.Fatal(err)
	}
	tpl := "/dashboard/templates/" + testDomain + "/welcome"
	msg, body = c.refused(tpl+"/versions/v1", url.Values{"csrf": {tok}, "_form": {"editor"}, "template": {"<p>{{#if x}}</p>"},
		"comment": {"typed comment"}, "vars": {`{"x": 1}`}})
	if msg == "" {
		t.Fatal("no error for a broken template")
	}
	for id, want := range map[string]string{"tpl-source": "<p>{{#if x}}</p>", "tpl-comment": "typed comment", "tpl-vars": `{"x": 1}`} {
		if got := field(t, body, id); got != want {
			t.Errorf("after a refused version save %s = %q, want %q", id, got, want)
		}
	}
	if got := field(t, c.get(tpl).Body, "tpl-source"); got != "<p>{{x}}</p>" {
		t.Errorf("the next visit shows %q, not the stored version", got)
	}
	// A refused test send keeps its fields, and the editor its own.
	msg, body = c.refused(tpl+"/versions/v1/send", url.Values{"csrf": {tok}, "_form": {"test-send"}, "to": {"ann@example.org"},
		"from": {"Typed <typed@" + testDomain + ">"}, "subject": {"typed subject"}, "vars": {"[1]"}})
	if !strings.Contains(msg, "not a JSON object") {
		t.Errorf("test send error = %q", msg)
	}
	for id, want := range map[string]string{"test-to": "ann@example.org", "test-from": "Typed <typed@" + testDomain + ">",
		"test-subject": "typed subject", "test-vars": "[1]", "tpl-vars": "{}", "tpl-source": "<p>{{x}}</p>"} {
		if got := field(t, body, id); got != want {
			t.Errorf("after a refused test send %s = %q, want %q", id, got, want)
		}
	}
	// A refused copy (the tag is taken) opens its form with the typed tag.
	msg, body = c.refused(tpl+"/versions/v1/copy", url.Values{"csrf": {tok}, "_form": {"copy v1"}, "new_tag": {"v1"}})
	if msg == "" {
		t.Fatal("no error for a copy onto a taken tag")
	}
	if got := field(t, body, "copy-v1"); got != "v1" {
		t.Errorf("copy tag = %q, want the typed v1", got)
	}
	if !strings.Contains(body, `<details class="replace" open>`) {
		t.Error("the refused copy's form is folded away")
	}
}

// TestCreateRouteAndListKeepTyped: the shared route and list forms keep
// what was typed on their create pages too.
func TestCreateRouteAndListKeepTyped(t *testing.T) {
	t.Parallel()
	_, c, tok := withDomain(t)
	msg, body := c.refused("/dashboard/routes", url.Values{"csrf": {tok}, "priority": {"4"}, "expression": {`catch_all(`},
		"actions": {"stop()"}, "description": {"new route"}})
	if !strings.Contains(msg, "Invalid expression") {
		t.Errorf("route error = %q", msg)
	}
	for id, want := range map[string]string{"route-priority": "4", "route-expression": "catch_all(", "route-actions": "stop()",
		"route-description": "new route"} {
		if got := field(t, body, id); got != want {
			t.Errorf("after a refused route create %s = %q, want %q", id, got, want)
		}
	}
	if got := field(t, c.get("/dashboard/routes").Body, "route-priority"); got != "0" {
		t.Errorf("the next visit's priority = %q, want the default 0", got)
	}
	msg, body = c.refused("/dashboard/lists", url.Values{"csrf": {tok}, "address": {"no at sign"}, "name": {"Typed"},
		"access_level": {"members"}, "reply_preference": {"sender"}})
	if msg == "" {
		t.Fatal("no error for a bad list address")
	}
	if got := field(t, body, "list-address"); got != "no at sign" {
		t.Errorf("list address = %q", got)
	}
	if !strings.Contains(body, `<option value="members" selected>`) {
		t.Error("the typed access level is not selected")
	}
}
