package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/testutil"
)

// parts returns the decoded text parts of a received message by media type.
func parts(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	ent, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse received message: %v", err)
	}
	out := map[string]string{}
	err = ent.Walk(func(_ []int, e *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if e.MultipartReader() != nil {
			return nil
		}
		ct, _, _ := e.Header.ContentType()
		b, err := io.ReadAll(e.Body)
		out[ct] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("walk received message: %v", err)
	}
	return out
}

// TestTemplatesSDK drives the templates API with mailgun-go v4.23.0.
func TestTemplatesSDK(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		e := startSendEnv(t, sendEnvOptions{postgres: pg})
		ctx := context.Background()
		mg := e.mg
		tpl := mailgun.Template{Name: "Welcome.Mail", Description: "first",
			Version: mailgun.TemplateVersion{Template: "<p>Hi {{name}}</p>", Comment: "v1", Engine: mailgun.TemplateEngineHandlebars}}
		if err := mg.CreateTemplate(ctx, &tpl); err != nil {
			t.Fatalf("CreateTemplate: %v", err)
		}
		if tpl.Name != "welcome.mail" || tpl.Version.Tag != "initial" || !tpl.Version.Active || tpl.CreatedAt.IsZero() {
			t.Fatalf("created %+v", tpl)
		}
		got, err := mg.GetTemplate(ctx, "welcome.mail")
		if err != nil || got.Version.Template != "<p>Hi {{name}}</p>" || got.Description != "first" {
			t.Fatalf("GetTemplate = %+v, %v", got, err)
		}
		upd := mailgun.Template{Name: "welcome.mail", Description: "second"}
		if err := mg.UpdateTemplate(ctx, &upd); err != nil || upd.Description != "second" {
			t.Fatalf("UpdateTemplate = %+v, %v", upd, err)
		}
		v2 := mailgun.TemplateVersion{Tag: "v2", Template: "<p>Hello {{name}}</p>", Comment: "two", Active: true}
		if err := mg.AddTemplateVersion(ctx, "welcome.mail", &v2); err != nil || !v2.Active || v2.Tag != "v2" {
			t.Fatalf("AddTemplateVersion = %+v, %v", v2, err)
		}
		if got, _ := mg.GetTemplate(ctx, "welcome.mail"); got.Version.Tag != "v2" {
			t.Fatalf("active version after adding v2 active: %+v", got.Version)
		}
		v1, err := mg.GetTemplateVersion(ctx, "welcome.mail", "initial")
		if err != nil || v1.Active || v1.Template != "<p>Hi {{name}}</p>" {
			t.Fatalf("GetTemplateVersion = %+v, %v", v1, err)
		}
		v1 = mailgun.TemplateVersion{Tag: "initial", Comment: "back", Active: true, Template: "<p>Hey {{name}}</p>"}
		if err := mg.UpdateTemplateVersion(ctx, "welcome.mail", &v1); err != nil || v1.Comment != "back" || !v1.Active {
			t.Fatalf("UpdateTemplateVersion = %+v, %v", v1, err)
		}
		var tags []string
		it := mg.ListTemplateVersions("welcome.mail", &mailgun.ListOptions{Limit: 1})
		var page []mailgun.TemplateVersion
		for it.Next(ctx, &page) {
			for _, v := range page {
				tags = append(tags, fmt.Sprintf("%s:%v", v.Tag, v.Active))
			}
		}
		if it.Err() != nil || strings.Join(tags, ",") != "initial:true,v2:false" {
			t.Fatalf("ListTemplateVersions = %v, %v", tags, it.Err())
		}
		if err := mg.DeleteTemplateVersion(ctx, "welcome.mail", "v2"); err != nil {
			t.Fatalf("DeleteTemplateVersion: %v", err)
		}
		if _, err := mg.GetTemplateVersion(ctx, "welcome.mail", "v2"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("deleted version: %v", err)
		}
		for i := range 12 {
			if err := mg.CreateTemplate(ctx, &mailgun.Template{Name: fmt.Sprintf("t%02d", i)}); err != nil {
				t.Fatalf("CreateTemplate t%02d: %v", i, err)
			}
		}
		var names []string
		lt := mg.ListTemplates(&mailgun.ListTemplateOptions{Limit: 5, Active: true})
		var tp []mailgun.Template
		for lt.Next(ctx, &tp) {
			for _, x := range tp {
				names = append(names, x.Name)
			}
		}
		if lt.Err() != nil || len(names) != 13 || names[0] != "t00" || names[12] != "welcome.mail" {
			t.Fatalf("ListTemplates = %v, %v", names, lt.Err())
		}
		if err := mg.DeleteTemplate(ctx, "welcome.mail"); err != nil {
			t.Fatalf("DeleteTemplate: %v", err)
		}
		if _, err := mg.GetTemplate(ctx, "welcome.mail"); mailgun.GetStatusFromErr(err) != http.StatusNotFound {
			t.Fatalf("GetTemplate after delete: %v", err)
		}
	})
}

// TestTemplatesAPIErrors: copy, headers, limits and bad input answer as
// the reference says and change nothing.
func TestTemplatesAPIErrors(t *testing.T) {
	t.Parallel()
	ta := testutil.StartApp(t, testutil.AppOptions{})
	ta.Call(t, "POST", "/v3/domains", ta.Key, testutil.Form(url.Values{"name": {"t.example.com"}})).Want(t, 200)
	base := "/v3/t.example.com/templates"
	call := func(method, path string, v url.Values) testutil.Response {
		return ta.Call(t, method, path, ta.Key, testutil.Form(v))
	}
	call("POST", base, url.Values{"description": {"x"}}).WantMessage(t, 400, "Missing mandatory parameter: name")
	call("POST", base, url.Values{"name": {"bad"}, "template": {"{{#if x}}open"}}).Want(t, 400)
	call("POST", base, url.Values{"name": {"big"}, "template": {strings.Repeat("x", 100*1024+1)}}).Want(t, 400)
	call("POST", base, url.Values{"name": {"h"}, "template": {"x"}, "headers": {`{"X-Other":"y"}`}}).Want(t, 400)
	call("GET", base+"/bad", nil).WantMessage(t, 404, "template not found")
	call("GET", base+"/big", nil).Want(t, 404)
	call("POST", base, url.Values{"name": {"w"}, "template": {"<p>{{a}}</p>"}, "tag": {"one"},
		"headers": {`{"subject":"Hi {{a}}","From":"Team <team@t.example.com>"}`}}).Want(t, 200)
	call("POST", base, url.Values{"name": {"W"}}).Want(t, 409)
	call("POST", base+"/w/versions", url.Values{"template": {"x"}, "tag": {"one"}}).Want(t, 409)
	call("POST", base+"/w/versions", url.Values{"template": {"x"}}).WantMessage(t, 400, "Missing mandatory parameter: tag")
	var copied struct {
		Message string
		Version struct {
			Tag, Comment, Template string
			Active                 bool
			Headers                map[string]string
		}
	}
	call("PUT", base+"/w/versions/one/copy/two?comment=copied", nil).Want(t, 200).Decode(t, &copied)
	if copied.Message != "version has been copied" || copied.Version.Tag != "two" || copied.Version.Active ||
		copied.Version.Comment != "copied" || copied.Version.Template != "<p>{{a}}</p>" || copied.Version.Headers["Subject"] != "Hi {{a}}" {
		t.Fatalf("copy = %+v", copied)
	}
	call("PUT", base+"/w/versions/nope/copy/three", nil).WantMessage(t, 404, "version not found")
	call("PUT", base+"/w/versions/two", url.Values{"template": {"{{/if}}"}}).Want(t, 400)
	for i := 3; i <= 40; i++ {
		call("POST", base+"/w/versions", url.Values{"template": {"x"}, "tag": {fmt.Sprintf("v%d", i)}}).Want(t, 200)
	}
	r := call("POST", base+"/w/versions", url.Values{"template": {"x"}, "tag": {"v41"}})
	r.Want(t, 400)
	if !strings.Contains(r.String(), "40 versions") {
		t.Fatalf("versions limit: %s", r)
	}
	call("DELETE", base, nil).WantMessage(t, 200, "templates have been deleted")
	call("GET", base+"/w", nil).Want(t, 404)
}
