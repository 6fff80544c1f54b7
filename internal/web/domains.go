package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// domainsPerPage is the length of a page of the domain list.
const domainsPerPage = 50

type domainsData struct {
	Domains    []store.Domain
	Total      int
	Skip       int
	Prev, Next int // skip values of the neighbour pages, -1 for none
}

func (s *Server) domainsPage(rq *request) error {
	skip, _ := strconv.Atoi(rq.r.URL.Query().Get("skip"))
	skip = max(skip, 0)
	ds, total, err := s.Domains.AccountList(rq.r.Context(), rq.tenant.Owner(), skip, domainsPerPage)
	if err != nil {
		return err
	}
	d := domainsData{Domains: ds, Total: total, Skip: skip, Prev: -1, Next: -1}
	if skip > 0 {
		d.Prev = max(skip-domainsPerPage, 0)
	}
	if skip+domainsPerPage < total {
		d.Next = skip + domainsPerPage
	}
	return s.show(rq, "domains", "Domains", "domains", d)
}

func domainPath(name string) string { return domainsPath + "/" + url.PathEscape(name) }

func (s *Server) addDomain(rq *request) (result, error) {
	res := result{To: domainsPath}
	d, err := s.Domains.Create(rq.r.Context(), domains.CreateRequest{Name: rq.r.PostFormValue("name"),
		AccountID: rq.tenant.AccountID, Owner: rq.tenant.Owner()})
	if err != nil {
		return res, err
	}
	s.Log.Info("domain added", "domain", d.Name, "user_id", rq.ses.User.ID)
	res.To = domainPath(d.Name)
	res.Flash.Notice = "Domain " + d.Name + " was added. Publish the DNS records below, then verify them."
	return res, nil
}

// settingsTab is a tab of Domain Settings, at
// /dashboard/domains/{name}/settings/{Slug}; a page for a new setting adds
// its tab here and sets Tab to its slug.
type settingsTab struct{ Slug, Label string }

var settingsTabs = []settingsTab{
	{Slug: "sending-keys", Label: "Sending API keys"},
	{Slug: "smtp-credentials", Label: "SMTP credentials"},
	{Slug: "tracking", Label: "Tracking"},
	{Slug: "connection", Label: "Connection settings"},
	{Slug: "webhooks", Label: "Webhooks"},
}

// domainData is what the domain's pages share: the domain and its tab.
type domainData struct {
	Domain   store.Domain
	Tab      string
	Sending  []domains.Record
	Inbound  []domains.Record
	Keys     []store.Key
	NewKeyID string
	// IPs are the addresses the domain sends from (its own, then its
	// pool's, named PoolName); none: any of the node's.
	IPs      []string
	PoolName string
}

func (s *Server) domainData(rq *request, tab string) (domainData, error) {
	d, err := s.Domains.Get(rq.r.Context(), rq.r.PathValue("name"))
	return domainData{Domain: d, Tab: tab}, err
}

func (s *Server) domainPage(rq *request) error {
	d, err := s.domainData(rq, "records")
	if err != nil {
		return err
	}
	for _, r := range s.Domains.Records(d.Domain) {
		if r.Sending {
			d.Sending = append(d.Sending, r)
		} else {
			d.Inbound = append(d.Inbound, r)
		}
	}
	if s.Pools != nil {
		if d.IPs, err = s.Pools.DomainIPs(rq.r.Context(), d.Domain); err != nil {
			return err
		}
		if d.Domain.PoolID != "" {
			p, err := s.Regional.IPPool(rq.r.Context(), d.Domain.PoolID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			d.PoolName = p.Name
		}
	}
	return s.show(rq, "domain", d.Domain.Name, "domains", d)
}

func (s *Server) verifyDomain(rq *request) (result, error) {
	name := rq.r.PathValue("name")
	res := result{To: domainPath(name)}
	d, err := s.Domains.Verify(rq.r.Context(), name)
	if err != nil {
		return res, err
	}
	if d.State != store.DomainActive {
		// A failed check is no success: the page's records say which failed.
		res.Flash.Error = "DNS records checked: the domain is still " + d.State +
			": its SPF and DKIM records below must both be valid before it can send."
		return res, nil
	}
	res.Flash.Notice = "DNS records checked: the domain is " + d.State + "."
	return res, nil
}

// deleteDomain deletes a domain, as DELETE /v3/domains/{name} does, once
// its name was typed again.
func (s *Server) deleteDomain(rq *request) (result, error) {
	name := rq.r.PathValue("name")
	res := result{To: domainPath(name)}
	if !strings.EqualFold(strings.TrimSpace(rq.r.PostFormValue("confirm")), name) {
		return res, fault.Invalidf("Type the domain's name, %s, to delete it.", name)
	}
	if err := s.Domains.Delete(rq.r.Context(), name); err != nil {
		return res, err
	}
	s.Log.Info("domain deleted", "domain", name, "user_id", rq.ses.User.ID)
	return result{To: domainsPath, Flash: flash{Notice: "Domain " + strings.ToLower(name) + " was deleted."}}, nil
}

func sendingKeysPath(name string) string { return domainPath(name) + "/settings/sending-keys" }

func (s *Server) sendingKeysPage(rq *request) error {
	d, err := s.domainData(rq, "sending-keys")
	if err != nil {
		return err
	}
	if d.Keys, err = s.Keys.List(rq.r.Context(), store.KeyFilter{Kind: store.KindDomain, DomainName: d.Domain.Name}); err != nil {
		return err
	}
	d.NewKeyID = rq.flash.SecretID
	return s.show(rq, "sending_keys", d.Domain.Name+": Sending API keys", "domains", d)
}

func (s *Server) addSendingKey(rq *request) (result, error) {
	d, err := s.domainData(rq, "")
	if err != nil {
		return result{}, err
	}
	res := result{To: sendingKeysPath(d.Domain.Name)}
	u := rq.ses.User
	k, value, err := s.Keys.Create(rq.r.Context(), auth.KeyRequest{
		Role: store.RoleSending, Kind: store.KindDomain, DomainName: d.Domain.Name,
		Description: rq.r.PostFormValue("description"), Requestor: u.Email, UserName: u.Name,
		AccountID: rq.tenant.AccountID,
	})
	if err != nil {
		return res, err
	}
	s.Log.Info("sending key created", "key_id", k.ID, "domain", d.Domain.Name, "user_id", u.ID)
	res.Flash = flash{Notice: "Sending key created.", Secret: value, SecretID: k.ID}
	return res, nil
}

func (s *Server) revokeSendingKey(rq *request) (result, error) {
	d, err := s.domainData(rq, "")
	if err != nil {
		return result{}, err
	}
	res := result{To: sendingKeysPath(d.Domain.Name)}
	keys, err := s.Keys.List(rq.r.Context(), store.KeyFilter{Kind: store.KindDomain, DomainName: d.Domain.Name})
	if err != nil {
		return res, err
	}
	id := rq.r.PathValue("id")
	for _, k := range keys {
		if k.ID == id {
			return s.revoke(rq, id, res.To)
		}
	}
	return res, fault.NotFoundf("This domain has no sending key %s.", id)
}

func (s *Server) connectionPage(rq *request) error {
	d, err := s.domainData(rq, "connection")
	if err != nil {
		return err
	}
	return s.show(rq, "connection", d.Domain.Name+": Connection settings", "domains", d)
}

func (s *Server) saveConnection(rq *request) (result, error) {
	name := rq.r.PathValue("name")
	res := result{To: domainPath(name) + "/settings/connection"}
	requireTLS := rq.r.PostFormValue("require_tls") == "on"
	skipVerify := rq.r.PostFormValue("skip_verification") == "on"
	_, err := s.Domains.Update(rq.r.Context(), name, domains.UpdateRequest{RequireTLS: &requireTLS, SkipVerification: &skipVerify})
	if err != nil {
		return res, err
	}
	res.Flash.Notice = "Connection settings saved."
	return res, nil
}

func (s *Server) trackingPage(rq *request) error {
	d, err := s.domainData(rq, "tracking")
	if err != nil {
		return err
	}
	return s.show(rq, "tracking", d.Domain.Name+": Tracking", "domains", d)
}

// saveTracking stores the open, click and unsubscribe settings of the
// Tracking tab (docs/mailgun-contract.md §9, as PUT /v3/domains/{d}/tracking/* does). An
// empty footer keeps the current one, as the API does.
func (s *Server) saveTracking(rq *request) (result, error) {
	name := rq.r.PathValue("name")
	res := result{To: domainPath(name) + "/settings/tracking"}
	d, err := s.Domains.Get(rq.r.Context(), name)
	if err != nil {
		return res, err
	}
	t := d.Tracking
	switch rq.r.PostFormValue("click") {
	case "off":
		t.Click, t.ClickHTMLOnly = false, false
	case "on":
		t.Click, t.ClickHTMLOnly = true, false
	case "htmlonly":
		t.Click, t.ClickHTMLOnly = true, true
	default:
		return res, fault.Invalidf("Choose how clicks are tracked: off, on or HTML only")
	}
	t.Open = rq.r.PostFormValue("open") == "on"
	t.OpenTop = rq.r.PostFormValue("open_top") == "on"
	t.Unsubscribe = rq.r.PostFormValue("unsubscribe") == "on"
	if f := strings.TrimSpace(rq.r.PostFormValue("html_footer")); f != "" {
		t.HTMLFooter = rq.r.PostFormValue("html_footer")
	}
	if f := strings.TrimSpace(rq.r.PostFormValue("text_footer")); f != "" {
		t.TextFooter = rq.r.PostFormValue("text_footer")
	}
	if _, err := s.Domains.Update(rq.r.Context(), name, domains.UpdateRequest{Tracking: &t}); err != nil {
		return res, err
	}
	res.Flash.Notice = "Tracking settings saved."
	return res, nil
}
