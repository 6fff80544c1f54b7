package api

import (
	"net/url"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/templates"
)

// templatesRoutes registers the templates API (docs/mailgun-contract.md §13.2).
func (s *Server) templatesRoutes() {
	const base = "/v3/{domain}/templates"
	s.handle("GET", base, auth.Account, s.listTemplates)
	s.handle("POST", base, auth.Account, s.createTemplate)
	s.handle("DELETE", base, auth.Account, s.deleteTemplates)
	s.handle("GET", base+"/{name}", auth.Account, s.getTemplate)
	s.handle("PUT", base+"/{name}", auth.Account, s.updateTemplate)
	s.handle("DELETE", base+"/{name}", auth.Account, s.deleteTemplate)
	s.handle("GET", base+"/{name}/versions", auth.Account, s.listTemplateVersions)
	s.handle("POST", base+"/{name}/versions", auth.Account, s.addTemplateVersion)
	s.handle("GET", base+"/{name}/versions/{tag}", auth.Account, s.getTemplateVersion)
	s.handle("PUT", base+"/{name}/versions/{tag}", auth.Account, s.updateTemplateVersion)
	s.handle("DELETE", base+"/{name}/versions/{tag}", auth.Account, s.deleteTemplateVersion)
	s.handle("PUT", base+"/{name}/versions/{tag}/copy/{new}", auth.Account, s.copyTemplateVersion)
}

func templateJSON(t store.Template, v *store.TemplateVersion) mgapi.Template {
	out := mgapi.Template{Name: t.Name, Description: t.Description, CreatedAt: mgapi.Time(t.CreatedAt),
		CreatedBy: t.CreatedBy, ID: t.ID}
	if v != nil {
		vj := versionJSON(*v, true)
		out.Version = &vj
	}
	return out
}

func versionJSON(v store.TemplateVersion, content bool) mgapi.TemplateVersion {
	out := mgapi.TemplateVersion{Tag: v.Tag, Engine: v.Engine, CreatedAt: mgapi.Time(v.CreatedAt), Comment: v.Comment,
		Active: v.Active, ID: v.ID, Headers: v.Headers}
	if content {
		out.Template = v.Content
	}
	return out
}

func (s *Server) templatesPath(c *Ctx, rest string) string {
	return s.PublicURL + "/v3/" + url.PathEscape(c.Domain.Name) + "/templates" + rest
}

func (s *Server) createTemplate(c *Ctx) (any, error) {
	p := c.P
	p.Accept("name", "description", "template", "tag", "comment", "engine", "headers", "createdBy")
	var v *templates.VersionInput
	if p.Has("template") {
		tag := p.Get("tag")
		if tag == "" {
			tag = "initial"
		}
		v = &templates.VersionInput{Tag: tag, Engine: p.Get("engine"), Comment: p.Raw("comment"),
			Content: p.Raw("template"), Headers: p.Raw("headers")}
	}
	created, err := s.Templates.Create(c.R.Context(), c.Domain.Name, p.Get("name"), p.Raw("description"), p.Get("createdBy"), v)
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "template has been stored", Template: templateJSON(created.Template, created.Version)}, nil
}

func (s *Server) listTemplates(c *Ctx) (any, error) {
	c.P.Accept("limit", "page", "p", "active")
	active, err := c.P.Bool("active", false)
	if err != nil {
		return nil, err
	}
	pg, err := newPivotPager(c.P, s.templatesPath(c, ""), "p", 10, 100, "active")
	if err != nil {
		return nil, err
	}
	ts, err := s.Templates.List(c.R.Context(), c.Domain.Name, pg.q, active)
	if err != nil {
		return nil, err
	}
	out := mgapi.TemplateList{Items: []mgapi.Template{}}
	keys := make([]string, 0, len(ts))
	for _, t := range ts {
		out.Items = append(out.Items, templateJSON(t.Template, t.Version))
		keys = append(keys, t.Template.Name)
	}
	out.Paging = pg.paging(keys)
	return out, nil
}

func (s *Server) deleteTemplates(c *Ctx) (any, error) {
	c.P.Accept()
	if err := s.Templates.DeleteAll(c.R.Context(), c.Domain.Name); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "templates have been deleted"}, nil
}

func (s *Server) getTemplate(c *Ctx) (any, error) {
	c.P.Accept("active")
	active, err := c.P.Bool("active", false)
	if err != nil {
		return nil, err
	}
	t, err := s.Templates.Get(c.R.Context(), c.Domain.Name, c.Var("name"), active)
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Template: templateJSON(t.Template, t.Version)}, nil
}

func (s *Server) updateTemplate(c *Ctx) (any, error) {
	// mailgun-go sends the name back with the description.
	c.P.Accept("description", "name")
	ctx, d, name := c.R.Context(), c.Domain.Name, c.Var("name")
	if c.P.Has("description") {
		if err := s.Templates.UpdateDescription(ctx, d, name, c.P.Raw("description")); err != nil {
			return nil, err
		}
	}
	t, err := s.Templates.Get(ctx, d, name, false)
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "template has been updated", Template: templateJSON(t.Template, nil)}, nil
}

func (s *Server) deleteTemplate(c *Ctx) (any, error) {
	c.P.Accept()
	t, err := s.Templates.Get(c.R.Context(), c.Domain.Name, c.Var("name"), false)
	if err != nil {
		return nil, err
	}
	if err := s.Templates.Delete(c.R.Context(), c.Domain.Name, t.Template.Name); err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "template has been deleted", Template: mgapi.Template{Name: t.Template.Name}}, nil
}

func (s *Server) listTemplateVersions(c *Ctx) (any, error) {
	c.P.Accept("limit", "page", "p")
	pg, err := newPivotPager(c.P, s.templatesPath(c, "/"+url.PathEscape(c.Var("name"))+"/versions"), "p", 10, 100)
	if err != nil {
		return nil, err
	}
	t, vs, err := s.Templates.Versions(c.R.Context(), c.Domain.Name, c.Var("name"), pg.q)
	if err != nil {
		return nil, err
	}
	out := mgapi.TemplateVersionList{Template: mgapi.TemplateWithVersions{Template: templateJSON(t, nil),
		Versions: []mgapi.TemplateVersion{}}}
	keys := make([]string, 0, len(vs))
	for _, v := range vs {
		out.Template.Versions = append(out.Template.Versions, versionJSON(v, false))
		keys = append(keys, v.Tag)
	}
	out.Paging = pg.paging(keys)
	return out, nil
}

func (s *Server) addTemplateVersion(c *Ctx) (any, error) {
	p := c.P
	p.Accept("template", "tag", "comment", "active", "engine", "headers")
	if _, err := p.Required("template"); err != nil {
		return nil, err
	}
	tag, err := p.Required("tag")
	if err != nil {
		return nil, err
	}
	active, err := p.Bool("active", false)
	if err != nil {
		return nil, err
	}
	created, err := s.Templates.AddVersion(c.R.Context(), c.Domain.Name, c.Var("name"), templates.VersionInput{
		Tag: tag, Engine: p.Get("engine"), Comment: p.Raw("comment"), Content: p.Raw("template"),
		Headers: p.Raw("headers"), Active: active})
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "new version of the template has been stored",
		Template: templateJSON(created.Template, created.Version)}, nil
}

func (s *Server) getTemplateVersion(c *Ctx) (any, error) {
	c.P.Accept()
	t, err := s.Templates.Version(c.R.Context(), c.Domain.Name, c.Var("name"), c.Var("tag"))
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Template: templateJSON(t.Template, t.Version)}, nil
}

func (s *Server) updateTemplateVersion(c *Ctx) (any, error) {
	p := c.P
	p.Accept("template", "comment", "active", "headers")
	var u templates.VersionUpdate
	for name, dst := range map[string]**string{"template": &u.Content, "comment": &u.Comment, "headers": &u.Headers} {
		if p.Has(name) {
			v := p.Raw(name)
			*dst = &v
		}
	}
	var err error
	if u.Active, err = p.Bool("active", false); err != nil {
		return nil, err
	}
	t, err := s.Templates.UpdateVersion(c.R.Context(), c.Domain.Name, c.Var("name"), c.Var("tag"), u)
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "version has been updated", Template: templateJSON(t.Template, t.Version)}, nil
}

func (s *Server) deleteTemplateVersion(c *Ctx) (any, error) {
	c.P.Accept()
	ctx, d := c.R.Context(), c.Domain.Name
	t, err := s.Templates.Version(ctx, d, c.Var("name"), c.Var("tag"))
	if err != nil {
		return nil, err
	}
	if err := s.Templates.DeleteVersion(ctx, d, t.Template.Name, t.Version.Tag); err != nil {
		return nil, err
	}
	return mgapi.TemplateResponse{Message: "version has been deleted", Template: mgapi.Template{Name: t.Template.Name,
		Version: &mgapi.TemplateVersion{Tag: t.Version.Tag}}}, nil
}

func (s *Server) copyTemplateVersion(c *Ctx) (any, error) {
	c.P.Accept("comment")
	var comment *string
	if c.P.Has("comment") {
		v := c.P.Raw("comment")
		comment = &v
	}
	ctx, d := c.R.Context(), c.Domain.Name
	v, err := s.Templates.CopyVersion(ctx, d, c.Var("name"), c.Var("tag"), c.Var("new"), comment)
	if err != nil {
		return nil, err
	}
	t, err := s.Templates.Get(ctx, d, v.Template, false)
	if err != nil {
		return nil, err
	}
	return mgapi.TemplateVersionCopied{Message: "version has been copied", Version: versionJSON(v, true),
		Template: templateJSON(t.Template, &v)}, nil
}
