package api

import (
	"errors"
	"net/http"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/exports"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// exportsRoutes: /v3/exports (docs/mailgun-contract.md §13.4; mailgun-go CreateExport,
// ListExports, GetExport, GetExportLink), run by package exports. The
// download itself is public: its link is signed and expires.
func (s *Server) exportsRoutes() {
	s.handle(http.MethodPost, "/v3/exports", auth.Account, s.createExport)
	s.handle(http.MethodGet, "/v3/exports", auth.Account, s.listExports)
	s.handle(http.MethodGet, "/v3/exports/{id}", auth.Account, s.getExport)
	s.handle(http.MethodGet, "/v3/exports/{id}/download_url", auth.Account, s.exportLink)
	s.handle(http.MethodGet, "/v3/exports/{id}/download", auth.Public, s.downloadExport)
}

func exportOut(e store.Export) mgapi.Export {
	return mgapi.Export{ID: e.ID, Status: e.State, URL: e.URL}
}

func (s *Server) exportsOn() error {
	if s.Exports == nil {
		return fault.Unavailablef("exports are not configured on this node")
	}
	return nil
}

func (s *Server) createExport(c *Ctx) (any, error) {
	c.P.Accept("url")
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	raw, err := c.P.Required("url")
	if err != nil {
		return nil, err
	}
	domain, _, err := exports.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	// Only a list of the tenant's own domain (subaccounts, On-Behalf-Of).
	if _, err := s.regionDomain(c.R, map[string]string{"domain": domain}, c.Tenant); err != nil {
		return nil, err
	}
	e, err := s.Exports.Create(c.R.Context(), raw)
	if err != nil {
		return nil, err
	}
	return mgapi.ExportCreated{Message: "success", Export: exportOut(e)}, nil
}

func (s *Server) listExports(c *Ctx) (any, error) {
	c.P.Accept("url")
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	es, err := s.Exports.List(c.R.Context(), c.P.Get("url"))
	if err != nil {
		return nil, err
	}
	out := mgapi.ExportList{Items: make([]mgapi.Export, 0, len(es))}
	owned := map[string]bool{}
	for _, e := range es {
		ok, seen := owned[e.Domain]
		if !seen {
			ok, err = s.ownsDomain(c, e.Domain)
			if err != nil {
				return nil, err
			}
			owned[e.Domain] = ok
		}
		if ok {
			out.Items = append(out.Items, exportOut(e))
		}
	}
	return out, nil
}

func (s *Server) export(c *Ctx) (store.Export, error) {
	c.P.Accept()
	if err := s.exportsOn(); err != nil {
		return store.Export{}, err
	}
	e, err := s.Regional.Export(c.R.Context(), c.Var("id"), false)
	if err == store.ErrNotFound {
		return e, fault.NotFoundf("export not found")
	}
	if err != nil {
		return e, err
	}
	// Another account's export is not found (subaccounts, On-Behalf-Of).
	if ok, err := s.ownsDomain(c, e.Domain); err != nil || !ok {
		if err == nil {
			err = fault.NotFoundf("export not found")
		}
		return store.Export{}, err
	}
	return e, nil
}

// ownsDomain reports whether the request's tenant owns the domain; a
// domain deleted since counts as not owned.
func (s *Server) ownsDomain(c *Ctx, name string) (bool, error) {
	dom, err := s.Regional.Domain(c.R.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.Tenant.Owns(dom.AccountID), nil
}

func (s *Server) getExport(c *Ctx) (any, error) {
	e, err := s.export(c)
	if err != nil {
		return nil, err
	}
	return exportOut(e), nil
}

// exportLink answers 302 to a signed, expiring download link (mailgun-go
// expects the redirect and returns its Location).
func (s *Server) exportLink(c *Ctx) (any, error) {
	e, err := s.export(c)
	if err != nil {
		return nil, err
	}
	if e.State != store.ExportComplete {
		return nil, fault.Invalidf("export %s is not complete (status %s)", e.ID, e.State)
	}
	c.W.Header().Set("Location", s.Exports.Link(e.ID))
	c.W.WriteHeader(http.StatusFound)
	return nil, nil
}

func (s *Server) downloadExport(c *Ctx) (any, error) {
	c.P.Accept("expires", "signature")
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	e, err := s.Exports.Download(c.R.Context(), c.Var("id"), c.P.Get("expires"), c.P.Get("signature"))
	if err != nil {
		return nil, err
	}
	h := c.W.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+e.List+`-`+e.Domain+`-`+e.ID+`.csv"`)
	h.Set("Cache-Control", "private, no-store")
	c.W.WriteHeader(http.StatusOK)
	_, _ = c.W.Write(e.Data)
	return nil, nil
}
