package web

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// Account Settings → Subaccounts: the installation's subaccounts (name,
// id, status, created) and the domains of this region each owns
// (read-only), created and enabled or disabled with the same rules as
// /v5/accounts/subaccounts. The other pages still show the whole
// installation: there is no account switcher yet.

const subaccountsPath = prefix + "/subaccounts"

func (s *Server) subaccountsRoutes() {
	s.page("GET "+subaccountsPath, s.subaccountsPage)
	s.form("POST "+subaccountsPath, s.createSubaccount)
	s.form("POST "+subaccountsPath+"/{id}/enable", s.setSubaccountStatus(store.SubaccountOpen))
	s.form("POST "+subaccountsPath+"/{id}/disable", s.setSubaccountStatus(store.SubaccountDisabled))
}

// maxSubaccountsShown bounds the list; the API pages beyond it.
const maxSubaccountsShown = 1000

// maxSubaccountName is the API's bound on a name (in characters).
const maxSubaccountName = 255

type subaccountRow struct {
	store.Subaccount
	Domains []string
}

type subaccountsData struct {
	Subaccounts []subaccountRow
	Total       int
	// PrimaryDomains counts the domains the parent account owns.
	PrimaryDomains int
}

func (s *Server) subaccountsPage(rq *request) error {
	ctx := rq.r.Context()
	subs, total, err := s.Subaccounts.Subaccounts(ctx, store.SubaccountFilter{}, 0, maxSubaccountsShown)
	if err != nil {
		return err
	}
	owned := map[string][]string{}
	for skip := 0; ; skip += 1000 {
		ds, n, err := s.Regional.Domains(ctx, skip, 1000)
		if err != nil {
			return err
		}
		for _, d := range ds {
			owned[d.AccountID] = append(owned[d.AccountID], d.Name)
		}
		if skip+len(ds) >= n || len(ds) == 0 {
			break
		}
	}
	d := subaccountsData{Total: total, PrimaryDomains: len(owned[""])}
	for _, a := range subs {
		d.Subaccounts = append(d.Subaccounts, subaccountRow{Subaccount: a, Domains: owned[a.ID]})
	}
	return s.show(rq, "subaccounts", "Subaccounts", "subaccounts", d)
}

func (s *Server) createSubaccount(rq *request) (result, error) {
	res := result{To: subaccountsPath}
	name := strings.TrimSpace(rq.r.PostForm.Get("name"))
	if name == "" {
		return res, fault.Invalidf("Enter a name for the subaccount.")
	}
	if utf8.RuneCountInString(name) > maxSubaccountName || !utf8.ValidString(name) {
		return res, fault.Invalidf("A name is valid text of at most %d characters.", maxSubaccountName)
	}
	now := s.Now().UTC()
	a := store.Subaccount{ID: secret.Token(12), Name: name, Status: store.SubaccountOpen, CreatedAt: now, UpdatedAt: now}
	if err := s.Subaccounts.CreateSubaccount(rq.r.Context(), a); err != nil {
		return res, err
	}
	s.Log.Info("subaccount created", "subaccount", a.ID, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Subaccount " + a.Name + " was created (id " + a.ID + ")."
	return res, nil
}

func (s *Server) setSubaccountStatus(status string) func(*request) (result, error) {
	return func(rq *request) (result, error) {
		a, err := s.Subaccounts.SetSubaccountStatus(rq.r.Context(), rq.r.PathValue("id"), status, s.Now().UTC())
		if errors.Is(err, store.ErrNotFound) {
			return result{}, fault.NotFoundf("Subaccount not found.")
		}
		if err != nil {
			return result{}, err
		}
		s.Log.Info("subaccount status changed", "subaccount", a.ID, "status", status, "user_id", rq.ses.User.ID)
		word := "enabled"
		if status == store.SubaccountDisabled {
			word = "disabled"
		}
		return result{To: subaccountsPath, Flash: flash{Notice: "Subaccount " + a.Name + " was " + word + "."}}, nil
	}
}
