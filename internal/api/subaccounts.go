package api

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// subaccountRoutes registers /v5/accounts/subaccounts (docs/mailgun-contract.md §13.4).
// Only the parent account manages its subaccounts (tenant refuses a
// subaccount's key and X-Mailgun-On-Behalf-Of on these routes).
func (s *Server) subaccountRoutes() {
	const base = "/v5/accounts/subaccounts"
	s.handle(http.MethodGet, base, auth.Admin, s.listSubaccounts)
	s.handle(http.MethodPost, base, auth.Admin, s.createSubaccount)
	s.handle(http.MethodGet, base+"/{subaccount}", auth.Admin, s.getSubaccount)
	s.handle(http.MethodPost, base+"/{subaccount}/enable", auth.Admin, s.setSubaccountStatus(store.SubaccountOpen))
	s.handle(http.MethodPost, base+"/{subaccount}/disable", auth.Admin, s.setSubaccountStatus(store.SubaccountDisabled))
}

func subaccountJSON(a store.Subaccount) mgapi.Subaccount {
	return mgapi.Subaccount{ID: a.ID, Name: a.Name, Status: a.Status,
		CreatedAt: mgapi.Time(a.CreatedAt), UpdatedAt: mgapi.Time(a.UpdatedAt)}
}

// maxSubaccountName bounds a subaccount's name (in characters).
const maxSubaccountName = 255

func (s *Server) createSubaccount(c *Ctx) (any, error) {
	c.P.Accept("name")
	name := strings.TrimSpace(c.P.Raw("name"))
	if name == "" {
		return nil, fault.Invalidf("Missing mandatory parameter: name")
	}
	if utf8.RuneCountInString(name) > maxSubaccountName || !utf8.ValidString(name) {
		return nil, fault.Invalidf("name must be valid text of at most %d characters", maxSubaccountName)
	}
	now := s.Now().UTC()
	a := store.Subaccount{ID: secret.Token(12), Name: name, Status: store.SubaccountOpen, CreatedAt: now, UpdatedAt: now}
	if err := s.Auth.Global.CreateSubaccount(c.R.Context(), a); err != nil {
		return nil, err
	}
	return mgapi.SubaccountEnvelope{Subaccount: subaccountJSON(a)}, nil
}

func (s *Server) listSubaccounts(c *Ctx) (any, error) {
	c.P.Accept("limit", "skip", "sort", "filter", "enabled", "closed")
	limit, err := c.P.Int("limit", 10, 1, 1000)
	if err != nil {
		return nil, err
	}
	skip, err := c.P.Int("skip", 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	f := store.SubaccountFilter{Name: c.P.Get("filter")}
	switch strings.ToLower(c.P.Get("sort")) {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		return nil, fault.Invalidf("sort must be asc or desc")
	}
	if c.P.Get("enabled") != "" {
		enabled, err := c.P.Bool("enabled", false)
		if err != nil {
			return nil, err
		}
		f.Status = store.SubaccountDisabled
		if enabled {
			f.Status = store.SubaccountOpen
		}
	}
	if _, err := c.P.Bool("closed", false); err != nil {
		return nil, err // Salvo closes no subaccount: closed ones are never listed
	}
	subs, total, err := s.Auth.Global.Subaccounts(c.R.Context(), f, skip, limit)
	if err != nil {
		return nil, err
	}
	out := mgapi.SubaccountList{Subaccounts: make([]mgapi.Subaccount, 0, len(subs)), Total: total}
	for _, a := range subs {
		out.Subaccounts = append(out.Subaccounts, subaccountJSON(a))
	}
	return out, nil
}

func (s *Server) getSubaccount(c *Ctx) (any, error) {
	c.P.Accept()
	a, err := s.Auth.Global.Subaccount(c.R.Context(), c.Var("subaccount"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf("Subaccount not found")
	}
	if err != nil {
		return nil, err
	}
	return mgapi.SubaccountEnvelope{Subaccount: subaccountJSON(a)}, nil
}

func (s *Server) setSubaccountStatus(status string) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept()
		a, err := s.Auth.Global.SetSubaccountStatus(c.R.Context(), c.Var("subaccount"), status, s.Now().UTC())
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.NotFoundf("Subaccount not found")
		}
		if err != nil {
			return nil, err
		}
		return mgapi.SubaccountEnvelope{Subaccount: subaccountJSON(a)}, nil
	}
}
