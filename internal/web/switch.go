package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
)

// The account switcher: the parent (the installation's primary account)
// may act in the dashboard inside one of its subaccounts, as the API does
// with X-Mailgun-On-Behalf-Of. The choice is a cookie sealed for the
// session (its purpose names the session's hash), so it is worthless with
// another session and cannot be forged or read.
const (
	accountCookie = "salvo_account"
	switchPath    = prefix + "/account/switch"
	// maxSwitchChoices bounds the subaccounts the header's select lists.
	maxSwitchChoices = 200
)

func accountPurpose(ses auth.Session) string {
	return "dashboard-account:" + hex.EncodeToString(ses.Hash)
}

// switchChoice is one option of the header's account select.
type switchChoice struct {
	ID, Name string
	Disabled bool
}

// accountView is what the header says about the account shown.
type accountView struct {
	// Name is the account shown ("" for the parent).
	Name     string
	ID       string
	Disabled bool
	Choices  []switchChoice
}

// tenantOf decides the account a dashboard request acts in: the parent
// unless the session's sealed choice names one of its subaccounts.
func (s *Server) tenantOf(ctx context.Context, r *http.Request, ses auth.Session) (auth.Tenant, error) {
	primary := ""
	if s.Keys != nil {
		acct, err := s.Keys.Account(ctx)
		if err != nil {
			return auth.Tenant{}, err
		}
		primary = acct.ID
	}
	t := auth.Tenant{AccountID: primary}
	c, err := r.Cookie(accountCookie)
	if err != nil || c.Value == "" || s.Subaccounts == nil || s.Sessions == nil || s.Sessions.Box == nil {
		return t, nil
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return t, nil
	}
	id, err := s.Sessions.Box.Open(accountPurpose(ses), sealed)
	if err != nil || len(id) == 0 || len(id) > 64 {
		return t, nil // another session's, or tampered with: the parent
	}
	sub, err := s.Subaccounts.Subaccount(ctx, string(id))
	if errors.Is(err, store.ErrNotFound) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	return auth.Tenant{AccountID: sub.ID, Sub: &sub, OnBehalf: true}, nil
}

// accountHeader is the header's switcher: the account shown and the
// parent's subaccounts.
func (s *Server) accountHeader(rq *request) accountView {
	v := accountView{}
	if rq.tenant.Sub != nil {
		v.Name, v.ID, v.Disabled = rq.tenant.Sub.Name, rq.tenant.Sub.ID, rq.tenant.Disabled()
	}
	if s.Subaccounts == nil {
		return v
	}
	subs, _, err := s.Subaccounts.Subaccounts(rq.r.Context(), store.SubaccountFilter{}, 0, maxSwitchChoices)
	if err != nil {
		s.Log.Warn("list subaccounts for the switcher", "err", err)
		return v
	}
	for _, sub := range subs {
		v.Choices = append(v.Choices, switchChoice{ID: sub.ID, Name: sub.Name, Disabled: sub.Status != store.SubaccountOpen})
	}
	return v
}

// switchAccount is the header's switcher form: account "" is the parent.
func (s *Server) switchAccount(rq *request) (result, error) {
	res := result{To: prefix + "/"}
	id := strings.TrimSpace(rq.r.PostFormValue("account"))
	if id == "" {
		s.clearCookie(rq.w, rq.r, accountCookie, prefix)
		res.Flash.Notice = "You are now acting in the parent account."
		return res, nil
	}
	if s.Subaccounts == nil || len(id) > 64 {
		return res, fault.NotFoundf("There is no subaccount %s.", id)
	}
	sub, err := s.Subaccounts.Subaccount(rq.r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return res, fault.NotFoundf("There is no subaccount %s.", id)
	}
	if err != nil {
		return res, err
	}
	sealed := s.Sessions.Box.Seal(accountPurpose(rq.ses), []byte(sub.ID))
	s.setCookie(rq.w, rq.r, &http.Cookie{Name: accountCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: prefix})
	s.Log.Info("dashboard account switched", "subaccount", sub.ID, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "You are now acting in the subaccount " + sub.Name + "."
	if sub.Status != store.SubaccountOpen {
		res.Flash.Notice += " It is disabled: its data can be read, but it cannot send."
	}
	return res, nil
}

// checkScope is the one place what a dashboard request names is checked
// against the account acted in: a domain (the path's {name} under
// /dashboard/domains/, {domain}, the domain query parameter or a form's
// domain field), a route
// ({id} under /dashboard/routes/) or a mailing list ({list}). Another
// account's is a 404, as the API's regionDomain and ownedList answer.
func (s *Server) checkScope(rq *request) error {
	if err := s.checkDomainScope(rq); err != nil {
		return err
	}
	ctx := rq.r.Context()
	if id := rq.r.PathValue("id"); id != "" && strings.HasPrefix(rq.r.URL.Path, routesPath+"/") && s.Regional != nil {
		r, err := s.Regional.Route(ctx, id)
		if err == nil && !rq.tenant.Owns(r.AccountID) {
			return fault.NotFoundf("Route not found")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if addr := rq.r.PathValue("list"); addr != "" && s.Lists != nil {
		l, err := s.Lists.Get(ctx, addr)
		if err == nil && !rq.tenant.Owns(l.AccountID) {
			return lists.ListNotFound(l.Address)
		}
		if err != nil {
			if f, ok := fault.As(err); !ok || f.Kind != fault.NotFound {
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Server) checkDomainScope(rq *request) error {
	if s.Domains == nil {
		return nil
	}
	var names []string
	if strings.HasPrefix(rq.r.URL.Path, domainsPath+"/") {
		names = append(names, rq.r.PathValue("name"))
	}
	names = append(names, rq.r.PathValue("domain"), rq.r.URL.Query().Get("domain"))
	if rq.r.PostForm != nil && !strings.HasPrefix(rq.r.URL.Path, ipsPath+"/") {
		// A form's domain field (a new template, a tag's delete); the IPs
		// page links any domain to a pool: it stays parent-level.
		names = append(names, rq.r.PostForm.Get("domain"))
	}
	for _, name := range names {
		if name == "" {
			continue
		}
		d, err := s.Domains.Get(rq.r.Context(), name)
		if err != nil {
			if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
				continue // the page says so itself
			}
			return err
		}
		if !rq.tenant.Owns(d.AccountID) {
			return fault.NotFoundf("Domain not found")
		}
	}
	return nil
}
