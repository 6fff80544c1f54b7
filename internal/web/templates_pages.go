package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/send"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/templates"
)

// Sending → Templates: a domain's Mailgun templates and their versions
// through templates.Service (the checks and limits of /v3/{domain}/templates):
// create a template with its first version; edit a version in a
// Handlebars editor whose preview is rendered by templates.Render, the
// engine sends use, with sample variables; add, activate, copy and delete
// versions; delete a template. The preview is served like a message's
// HTML part: a sandboxed document (no scripts, no remote content) in an
// iframe.

const templatesPath = prefix + "/templates"

func templatePath(domain, name string) string {
	return templatesPath + "/" + url.PathEscape(domain) + "/" + url.PathEscape(name)
}

func (s *Server) templatesRoutes() {
	s.page("GET "+templatesPath, s.templatesPage)
	s.form("POST "+templatesPath, s.createTemplate)
	base := templatesPath + "/{domain}/{template}"
	s.page("GET "+base, s.templatePage)
	s.call("POST "+base+"/preview", s.previewTemplate)
	s.form("POST "+base+"/versions", s.addTemplateVersion)
	s.form("POST "+base+"/versions/{tag}", s.saveTemplateVersion)
	s.form("POST "+base+"/versions/{tag}/activate", s.activateTemplateVersion)
	s.form("POST "+base+"/versions/{tag}/copy", s.copyTemplateVersion)
	s.form("POST "+base+"/versions/{tag}/send", s.sendTemplateTest)
	s.form("POST "+base+"/versions/{tag}/delete", s.deleteTemplateVersion)
	s.form("POST "+base+"/delete", s.deleteTemplate)
}

// templatesPageSize is how many templates a page lists (a domain holds at
// most 100 by default).
const templatesPageSize = 100

type templatesData struct {
	Domain    string
	Domains   []store.Domain
	Templates []templates.Created
}

func (s *Server) templatesPage(rq *request) error {
	d := templatesData{Domain: strings.TrimSpace(rq.r.URL.Query().Get("domain"))}
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Domain); err != nil {
		return err
	}
	if d.Domain != "" {
		if d.Templates, err = s.Templates.List(rq.r.Context(), d.Domain, store.PivotQuery{Limit: templatesPageSize}, true); err != nil {
			return err
		}
	}
	return s.show(rq, "templates", "Templates", "templates", d)
}

func (s *Server) createTemplate(rq *request) (result, error) {
	f := rq.r.PostForm
	domain := f.Get("domain")
	res := result{To: templatesPath + "?" + url.Values{"domain": {domain}}.Encode()}
	if _, err := s.Domains.Get(rq.r.Context(), domain); err != nil {
		return res, fault.NotFoundf("There is no domain %s.", domain)
	}
	var first *templates.VersionInput
	if content := f.Get("template"); strings.TrimSpace(content) != "" {
		tag := strings.TrimSpace(f.Get("tag"))
		if tag == "" {
			tag = "initial"
		}
		first = &templates.VersionInput{Tag: tag, Content: content, Comment: f.Get("comment"), Active: true}
	}
	c, err := s.Templates.Create(rq.r.Context(), domain, f.Get("name"), f.Get("description"), rq.ses.User.Email, first)
	if err != nil {
		return res, err
	}
	s.Log.Info("template created", "domain", domain, "template", c.Template.Name, "user_id", rq.ses.User.ID)
	return result{To: templatePath(domain, c.Template.Name), Flash: flash{Notice: "Template " + c.Template.Name + " was created."}}, nil
}

// templateData is one template's page: its versions and the editor of
// one of them (Editing nil: a new version).
type templateData struct {
	Domain   string
	Template store.Template
	Versions []store.TemplateVersion
	Editing  *store.TemplateVersion
	Vars     string // sample variables for the preview, JSON
	Base     string
}

func (s *Server) templatePage(rq *request) error {
	domain, name := rq.r.PathValue("domain"), rq.r.PathValue("template")
	t, vs, err := s.Templates.Versions(rq.r.Context(), domain, name, store.PivotQuery{Limit: 100})
	if err != nil {
		return err
	}
	d := templateData{Domain: domain, Template: t, Versions: vs, Vars: "{}", Base: templatePath(domain, t.Name)}
	want := rq.r.URL.Query().Get("version")
	for i := range vs {
		if (want == "" && vs[i].Active) || vs[i].Tag == want {
			d.Editing = &vs[i]
		}
	}
	if want != "" && want != "new" && d.Editing == nil {
		return fault.NotFoundf("Template %s has no version %s.", t.Name, want)
	}
	rq.w.Header().Set("Content-Security-Policy", messagePagePolicy)
	return s.show(rq, "template", t.Name, "templates", d)
}

// previewTemplate renders the editor's content with its sample variables
// for the preview iframe: a sandboxed document, as a message's HTML part
// is served. A template that does not parse shows why.
func (s *Server) previewTemplate(rq *request) error {
	f := rq.r.PostForm
	h := rq.w.Header()
	h.Set("Content-Security-Policy", previewPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	noStore(rq.w)
	var vars map[string]any
	out, status := "", http.StatusOK
	if raw := strings.TrimSpace(f.Get("vars")); raw != "" {
		if err := json.Unmarshal([]byte(raw), &vars); err != nil {
			out, status = previewError("The sample variables are not a JSON object: "+err.Error()), http.StatusBadRequest
		}
	}
	if status == http.StatusOK {
		r, err := templates.Render(f.Get("template"), vars)
		if err != nil {
			out, status = previewError(err.Error()), http.StatusBadRequest
		} else {
			out = r
		}
	}
	rq.w.WriteHeader(status)
	_, err := rq.w.Write([]byte(out))
	return err
}

func previewError(msg string) string {
	return `<!doctype html><p id="preview-error" style="color:#82071e;font-family:sans-serif">` + html.EscapeString(msg) + `</p>`
}

// templateForm is what the version forms send.
func (s *Server) templateForm(rq *request) (domain, name string, res result) {
	domain, name = rq.r.PathValue("domain"), rq.r.PathValue("template")
	return domain, name, result{To: templatePath(domain, name)}
}

func (s *Server) addTemplateVersion(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	f := rq.r.PostForm
	tag := strings.TrimSpace(f.Get("new_tag"))
	res.To += "?version=new"
	in := templates.VersionInput{Tag: tag, Content: f.Get("template"), Comment: f.Get("comment"), Active: f.Get("active") == "on"}
	if _, err := s.Templates.AddVersion(rq.r.Context(), domain, name, in); err != nil {
		return res, err
	}
	s.Log.Info("template version added", "domain", domain, "template", name, "tag", tag, "user_id", rq.ses.User.ID)
	return result{To: templatePath(domain, name) + "?" + url.Values{"version": {tag}}.Encode(),
		Flash: flash{Notice: "Version " + tag + " was added."}}, nil
}

func (s *Server) saveTemplateVersion(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	tag := rq.r.PathValue("tag")
	res.To += "?" + url.Values{"version": {tag}}.Encode()
	f := rq.r.PostForm
	content, comment := f.Get("template"), f.Get("comment")
	c, err := s.Templates.Version(rq.r.Context(), domain, name, tag)
	if err != nil {
		return res, err
	}
	u := templates.VersionUpdate{Content: &content, Comment: &comment, Active: c.Version.Active}
	if _, err := s.Templates.UpdateVersion(rq.r.Context(), domain, name, tag, u); err != nil {
		return res, err
	}
	s.Log.Info("template version saved", "domain", domain, "template", name, "tag", tag, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Version " + tag + " was saved."
	return res, nil
}

func (s *Server) activateTemplateVersion(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	tag := rq.r.PathValue("tag")
	if _, err := s.Templates.UpdateVersion(rq.r.Context(), domain, name, tag, templates.VersionUpdate{Active: true}); err != nil {
		return res, err
	}
	s.Log.Info("template version activated", "domain", domain, "template", name, "tag", tag, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Version " + tag + " is now the active one: sends with this template use it."
	return res, nil
}

func (s *Server) copyTemplateVersion(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	tag, newTag := rq.r.PathValue("tag"), strings.TrimSpace(rq.r.PostFormValue("new_tag"))
	if _, err := s.Templates.CopyVersion(rq.r.Context(), domain, name, tag, newTag, nil); err != nil {
		return res, err
	}
	s.Log.Info("template version copied", "domain", domain, "template", name, "tag", tag, "new_tag", newTag, "user_id", rq.ses.User.ID)
	return result{To: templatePath(domain, name) + "?" + url.Values{"version": {newTag}}.Encode(),
		Flash: flash{Notice: "Version " + tag + " was copied to " + newTag + "."}}, nil
}

func (s *Server) deleteTemplateVersion(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	tag := rq.r.PathValue("tag")
	if err := s.Templates.DeleteVersion(rq.r.Context(), domain, name, tag); err != nil {
		return res, err
	}
	s.Log.Info("template version deleted", "domain", domain, "template", name, "tag", tag, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Version " + tag + " was deleted."
	return res, nil
}

func (s *Server) deleteTemplate(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	if err := s.Templates.Delete(rq.r.Context(), domain, name); err != nil {
		return res, err
	}
	s.Log.Info("template deleted", "domain", domain, "template", name, "user_id", rq.ses.User.ID)
	return result{To: templatesPath + "?" + url.Values{"domain": {domain}}.Encode(),
		Flash: flash{Notice: "Template " + name + " and its versions were deleted."}}, nil
}

// sendTemplateTest sends a version to one address through the send use
// case, as POST /v3/{domain}/messages with template= and t:version= does:
// it is accepted, logged and delivered like any message.
func (s *Server) sendTemplateTest(rq *request) (result, error) {
	domain, name, res := s.templateForm(rq)
	tag := rq.r.PathValue("tag")
	res.To += "?" + url.Values{"version": {tag}}.Encode()
	f := rq.r.PostForm
	to, from := strings.TrimSpace(f.Get("to")), strings.TrimSpace(f.Get("from"))
	if to == "" {
		return res, fault.Invalidf("Enter the address to send the test to.")
	}
	var vars map[string]any
	if raw := strings.TrimSpace(f.Get("vars")); raw != "" {
		if err := json.Unmarshal([]byte(raw), &vars); err != nil {
			return res, fault.Invalidf("The sample variables are not a JSON object: %v", err)
		}
	}
	if s.Send == nil {
		return res, fault.Invalidf("Sending is not set up on this node.")
	}
	dom, err := s.Domains.Get(rq.r.Context(), domain)
	if err != nil {
		return res, err
	}
	sub := &send.Submission{Domain: dom, Method: "http", From: from, To: []string{to}, Vars: map[string]string{},
		Subject: strings.TrimSpace(f.Get("subject")), Options: send.Options{DKIM: true},
		Template: &send.TemplateRef{Name: name, Version: tag, Variables: vars}}
	out, err := s.Send.Send(rq.r.Context(), sub)
	if err != nil {
		return res, err
	}
	s.Log.Info("template test sent", "domain", domain, "template", name, "tag", tag, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Version " + tag + " was sent to " + to + " (" + out.ID + "); follow it in Logs."
	return res, nil
}
