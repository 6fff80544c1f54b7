package storetest

import (
	"fmt"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

var templateTests = []regionalTest{
	{"RoundTrip", testTemplateRoundTrip},
	{"Limits", testTemplateLimits},
	{"ActiveVersion", testTemplateActiveVersion},
	{"Paging", testTemplatePaging},
	{"Delete", testTemplateDelete},
}

func fullTemplate(domain, name string) (store.Template, store.TemplateVersion) {
	t := store.Template{Domain: domain, Name: name, ID: "id-" + name, Description: "desc of " + name,
		CreatedBy: "jane", CreatedAt: at(1)}
	v := store.TemplateVersion{Domain: domain, Template: name, Tag: "initial", ID: "vid-" + name, Engine: "handlebars",
		Comment: "first", Content: "<p>{{name}}</p>", Headers: map[string]string{"Subject": "Hi {{name}}"},
		Active: true, CreatedAt: at(2)}
	return t, v
}

func testTemplateRoundTrip(t *testing.T, r store.Regional) {
	tpl, v := fullTemplate("a.test", "welcome")
	requireAllSet(t, tpl)
	requireAllSet(t, v)
	mustOK(t, r.CreateTemplate(ctx, tpl, &v, 10), "CreateTemplate")
	mustIs(t, r.CreateTemplate(ctx, tpl, nil, 10), store.ErrConflict, "CreateTemplate again")
	got, err := r.Template(ctx, "a.test", "welcome")
	mustOK(t, err, "Template")
	mustEqual(t, "Template", tpl, got)
	gv, err := r.TemplateVersion(ctx, "a.test", "welcome", "initial")
	mustOK(t, err, "TemplateVersion")
	mustEqual(t, "TemplateVersion", v, gv)
	_, err = r.Template(ctx, "b.test", "welcome")
	mustIs(t, err, store.ErrNotFound, "Template of another domain")
	mustOK(t, r.UpdateTemplateDescription(ctx, "a.test", "welcome", "new"), "UpdateTemplateDescription")
	got, _ = r.Template(ctx, "a.test", "welcome")
	if got.Description != "new" {
		t.Fatalf("description %q after update", got.Description)
	}
	mustIs(t, r.UpdateTemplateDescription(ctx, "a.test", "nope", "x"), store.ErrNotFound, "UpdateTemplateDescription missing")
	v.Comment, v.Content, v.Headers = "second", "<b>{{x}}</b>", map[string]string{"From": "a@b.test"}
	mustOK(t, r.UpdateTemplateVersion(ctx, v), "UpdateTemplateVersion")
	gv, _ = r.TemplateVersion(ctx, "a.test", "welcome", "initial")
	mustEqual(t, "updated version", v, gv)
	v.Tag = "missing"
	mustIs(t, r.UpdateTemplateVersion(ctx, v), store.ErrNotFound, "UpdateTemplateVersion missing")
}

func testTemplateLimits(t *testing.T, r store.Regional) {
	for i := range 3 {
		tpl, _ := fullTemplate("a.test", fmt.Sprintf("t%d", i))
		mustOK(t, r.CreateTemplate(ctx, tpl, nil, 3), "CreateTemplate")
	}
	tpl, _ := fullTemplate("a.test", "t3")
	mustIs(t, r.CreateTemplate(ctx, tpl, nil, 3), store.ErrLimit, "fourth template")
	other, _ := fullTemplate("b.test", "t3")
	mustOK(t, r.CreateTemplate(ctx, other, nil, 3), "template of another domain")
	_, v := fullTemplate("a.test", "t0")
	for i := range 2 {
		v.Tag = fmt.Sprintf("v%d", i)
		mustOK(t, r.AddTemplateVersion(ctx, v, 2), "AddTemplateVersion")
	}
	v.Tag = "v2"
	mustIs(t, r.AddTemplateVersion(ctx, v, 2), store.ErrLimit, "third version")
	v.Tag = "v1"
	mustIs(t, r.AddTemplateVersion(ctx, v, 5), store.ErrConflict, "duplicate tag")
	v.Template = "absent"
	mustIs(t, r.AddTemplateVersion(ctx, v, 5), store.ErrNotFound, "version of a missing template")
}

func activeTag(t *testing.T, r store.Regional, name string) string {
	t.Helper()
	v, err := r.ActiveTemplateVersion(ctx, "a.test", name)
	mustOK(t, err, "ActiveTemplateVersion")
	return v.Tag
}

func testTemplateActiveVersion(t *testing.T, r store.Regional) {
	tpl, v := fullTemplate("a.test", "w")
	mustOK(t, r.CreateTemplate(ctx, tpl, nil, 0), "CreateTemplate")
	_, err := r.ActiveTemplateVersion(ctx, "a.test", "w")
	mustIs(t, err, store.ErrNotFound, "ActiveTemplateVersion without versions")
	v.Active = false
	v.Tag = "one"
	mustOK(t, r.AddTemplateVersion(ctx, v, 0), "first version")
	if got := activeTag(t, r, "w"); got != "one" {
		t.Fatalf("first version not active: %q", got)
	}
	v.Tag = "two"
	mustOK(t, r.AddTemplateVersion(ctx, v, 0), "inactive version")
	if got := activeTag(t, r, "w"); got != "one" {
		t.Fatalf("active %q after adding an inactive version", got)
	}
	v.Tag, v.Active = "three", true
	mustOK(t, r.AddTemplateVersion(ctx, v, 0), "active version")
	if got := activeTag(t, r, "w"); got != "three" {
		t.Fatalf("active %q after adding an active version", got)
	}
	v.Tag = "two"
	mustOK(t, r.UpdateTemplateVersion(ctx, v), "activate two")
	vs, err := r.TemplateVersions(ctx, "a.test", "w", store.PivotQuery{Limit: 10})
	mustOK(t, err, "TemplateVersions")
	active := 0
	for _, x := range vs {
		if x.Active {
			active++
			if x.Tag != "two" {
				t.Fatalf("version %s active", x.Tag)
			}
		}
	}
	if active != 1 || len(vs) != 3 {
		t.Fatalf("%d versions, %d active: %+v", len(vs), active, vs)
	}
}

func testTemplatePaging(t *testing.T, r store.Regional) {
	for _, n := range []string{"e", "b", "d", "a", "c"} {
		tpl, _ := fullTemplate("a.test", n)
		mustOK(t, r.CreateTemplate(ctx, tpl, nil, 0), "CreateTemplate")
	}
	names := func(q store.PivotQuery) string {
		ts, err := r.Templates(ctx, "a.test", q)
		mustOK(t, err, "Templates")
		s := ""
		for _, x := range ts {
			s += x.Name
		}
		return s
	}
	for _, c := range []struct {
		q    store.PivotQuery
		want string
	}{
		{store.PivotQuery{Limit: 2}, "ab"},
		{store.PivotQuery{Limit: 2, Pivot: "b"}, "cd"},
		{store.PivotQuery{Limit: 2, Pivot: "d"}, "e"},
		{store.PivotQuery{Limit: 2, Pivot: "e"}, ""},
		{store.PivotQuery{Limit: 2, Backward: true}, "de"},
		{store.PivotQuery{Limit: 2, Backward: true, Pivot: "d"}, "bc"},
		{store.PivotQuery{Limit: 2, Backward: true, Pivot: "b"}, "a"},
	} {
		if got := names(c.q); got != c.want {
			t.Errorf("Templates(%+v) = %q, want %q", c.q, got, c.want)
		}
	}
}

func testTemplateDelete(t *testing.T, r store.Regional) {
	for _, d := range []string{"a.test", "b.test"} {
		tpl, v := fullTemplate(d, "w")
		mustOK(t, r.CreateTemplate(ctx, tpl, &v, 0), "CreateTemplate")
	}
	mustOK(t, r.DeleteTemplateVersion(ctx, "a.test", "w", "initial"), "DeleteTemplateVersion")
	mustIs(t, r.DeleteTemplateVersion(ctx, "a.test", "w", "initial"), store.ErrNotFound, "DeleteTemplateVersion again")
	mustOK(t, r.DeleteTemplate(ctx, "a.test", "w"), "DeleteTemplate")
	mustIs(t, r.DeleteTemplate(ctx, "a.test", "w"), store.ErrNotFound, "DeleteTemplate again")
	mustOK(t, r.DeleteTemplates(ctx, "b.test"), "DeleteTemplates")
	_, err := r.TemplateVersion(ctx, "b.test", "w", "initial")
	mustIs(t, err, store.ErrNotFound, "version after DeleteTemplates")
	_, err = r.Template(ctx, "b.test", "w")
	mustIs(t, err, store.ErrNotFound, "template after DeleteTemplates")
}
