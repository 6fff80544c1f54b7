package api

import (
	"strings"

	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

func (s *Server) domainJSON(d store.Domain) mgapi.Domain {
	return mgapi.Domain{
		ID: d.ID, Name: d.Name, State: d.State, Type: d.Type, CreatedAt: mgapi.Time(d.CreatedAt),
		SMTPLogin: "postmaster@" + d.Name, SpamAction: d.SpamAction, Wildcard: d.Wildcard,
		RequireTLS: d.RequireTLS, SkipVerification: d.SkipVerification,
		IsDisabled: d.State == store.DomainDisabled, WebPrefix: d.WebPrefix, WebScheme: d.WebScheme,
		TrackingHost: d.WebPrefix + "." + d.Name, DKIMHost: d.DKIMSelector + "._domainkey." + d.Name,
		MailFromHost: d.MailFromHost, UseAutomaticSenderSecurity: d.UseAutomaticSenderSecurity,
		EncryptIncomingMessage: d.EncryptIncomingMessage, MessageTTL: d.MessageTTL, ArchiveTo: d.ArchiveTo,
		Region: s.Region,
	}
}

func (s *Server) domainResponse(d store.Domain, message string) mgapi.DomainResponse {
	out := mgapi.DomainResponse{Message: message, Domain: s.domainJSON(d),
		Receiving: []mgapi.DNSRecord{}, Sending: []mgapi.DNSRecord{}}
	for _, r := range s.Domains.Records(d) {
		rec := mgapi.DNSRecord{RecordType: r.Type, Name: r.Name, Value: r.Value, Priority: r.Priority,
			Valid: r.Valid, Cached: r.Cached, IsActive: true}
		if r.Sending {
			out.Sending = append(out.Sending, rec)
		} else {
			out.Receiving = append(out.Receiving, rec)
		}
	}
	return out
}

func (s *Server) listDomains(c *Ctx) (any, error) {
	// state/sort/search/authority/include_subaccounts are mailgun.js v4 list
	// options; state and include_subaccounts (the parent's list then has
	// its subaccounts' domains too) are honoured, the others accepted
	// (the list is by name).
	c.P.Accept("skip", "limit", "state", "sort", "search", "authority", "include_subaccounts")
	skip, err := c.P.Int("skip", 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	limit, err := c.P.Int("limit", 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	state := c.P.Get("state")
	switch state {
	case "", store.DomainActive, store.DomainUnverified, store.DomainDisabled:
	default:
		return nil, fault.Invalidf("state must be active, unverified or disabled")
	}
	withSubs, err := c.P.Bool("include_subaccounts", false)
	if err != nil {
		return nil, err
	}
	var ds []store.Domain
	var total int
	if withSubs && c.Tenant.Primary() {
		ds, total, err = s.Domains.List(c.R.Context(), skip, limit)
	} else {
		ds, total, err = s.Domains.AccountList(c.R.Context(), c.Tenant.Owner(), skip, limit)
	}
	if err != nil {
		return nil, err
	}
	out := mgapi.DomainList{TotalCount: total, Items: []mgapi.Domain{}}
	for _, d := range ds {
		if state == "" || d.State == state {
			out.Items = append(out.Items, s.domainJSON(d))
		}
	}
	return out, nil
}

// domainCreateFields are the create fields of docs/mailgun-contract.md §11.1.
var domainCreateFields = []string{"name", "smtp_password", "spam_action", "wildcard", "force_dkim_authority",
	"force_root_dkim_host", "dkim_host_name", "dkim_selector", "dkim_key_size", "ips", "pool_id", "web_scheme",
	"web_prefix", "require_tls", "skip_verification", "use_automatic_sender_security",
	"encrypt_incoming_message", "archive_to", "message_ttl"}

func (s *Server) createDomain(c *Ctx) (any, error) {
	p := c.P
	p.Accept(domainCreateFields...)
	req := domains.CreateRequest{
		Name: p.Get("name"), SMTPPassword: p.Raw("smtp_password"), SpamAction: p.Get("spam_action"),
		DKIMSelector: p.Get("dkim_selector"), IPs: p.Get("ips"), PoolID: p.Get("pool_id"),
		WebScheme: p.Get("web_scheme"), WebPrefix: p.Get("web_prefix"), ArchiveTo: p.Get("archive_to"),
		AccountID: c.Tenant.AccountID, Owner: c.Tenant.Owner(),
	}
	if err := s.checkDomainIPs(c, &req); err != nil {
		return nil, err
	}
	bools := map[string]*bool{
		"wildcard": &req.Wildcard, "force_dkim_authority": &req.ForceDKIMAuthority,
		"require_tls": &req.RequireTLS, "skip_verification": &req.SkipVerification,
		"use_automatic_sender_security": &req.UseAutomaticSenderSecurity,
		"encrypt_incoming_message":      &req.EncryptIncomingMessage,
	}
	for name, dst := range bools {
		v, err := p.Bool(name, false)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	var err error
	if req.DKIMKeySize, err = p.Int("dkim_key_size", 0, 1024, 2048); err != nil {
		return nil, err
	}
	if req.MessageTTL, err = p.Int("message_ttl", 0, 0, 1<<31-1); err != nil {
		return nil, err
	}
	d, err := s.Domains.Create(c.R.Context(), req)
	if err != nil {
		return nil, err
	}
	return s.domainResponse(d, "Domain DNS records have been created"), nil
}

func (s *Server) getDomain(c *Ctx) (any, error) {
	// h:extended and h:with_dns are mailgun.js options; records are always included.
	c.P.Accept("h:extended", "h:with_dns")
	d, err := s.Domains.Get(c.R.Context(), c.Var("name"))
	if err != nil {
		return nil, err
	}
	return s.domainResponse(d, ""), nil
}

// domainUpdateFields are the fields PUT /vN/domains/{name} understands.
var domainUpdateFields = []string{"spam_action", "wildcard", "web_scheme", "web_prefix", "require_tls",
	"skip_verification", "use_automatic_sender_security", "encrypt_incoming_message", "archive_to",
	"message_ttl", "mailfrom_host", "dkim_selector"}

func (s *Server) updateDomain(c *Ctx) (any, error) {
	c.P.Accept(domainUpdateFields...)
	u, err := parseDomainUpdate(c.P)
	if err != nil {
		return nil, err
	}
	d, err := s.Domains.Update(c.R.Context(), c.Var("name"), u)
	if err != nil {
		return nil, err
	}
	return s.domainResponse(d, "Domain has been updated"), nil
}

func parseDomainUpdate(p *mgapi.Params) (domains.UpdateRequest, error) {
	var u domains.UpdateRequest
	str := func(name string) *string {
		if !p.Has(name) {
			return nil
		}
		v := p.Get(name)
		return &v
	}
	u.SpamAction, u.WebScheme, u.WebPrefix = str("spam_action"), str("web_scheme"), str("web_prefix")
	u.ArchiveTo, u.MailFromHost, u.DKIMSelector = str("archive_to"), str("mailfrom_host"), str("dkim_selector")
	for name, dst := range map[string]**bool{
		"wildcard": &u.Wildcard, "require_tls": &u.RequireTLS, "skip_verification": &u.SkipVerification,
		"use_automatic_sender_security": &u.UseAutomaticSenderSecurity,
		"encrypt_incoming_message":      &u.EncryptIncomingMessage,
	} {
		if !p.Has(name) {
			continue
		}
		v, err := p.Bool(name, false)
		if err != nil {
			return u, err
		}
		*dst = &v
	}
	if p.Has("message_ttl") {
		n, err := p.Int("message_ttl", 0, 0, 1<<31-1)
		if err != nil {
			return u, err
		}
		u.MessageTTL = &n
	}
	return u, nil
}

func (s *Server) deleteDomain(c *Ctx) (any, error) {
	c.P.Accept()
	if err := s.Domains.Delete(c.R.Context(), c.Var("name")); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "Domain will be deleted in the background"}, nil
}

func (s *Server) verifyDomain(c *Ctx) (any, error) {
	c.P.Accept()
	d, err := s.Domains.Verify(c.R.Context(), c.Var("name"))
	if err != nil {
		return nil, err
	}
	return s.domainResponse(d, "Domain DNS records have been updated"), nil
}

func (s *Server) getConnection(c *Ctx) (any, error) {
	c.P.Accept()
	d, err := s.Domains.Get(c.R.Context(), c.Var("name"))
	if err != nil {
		return nil, err
	}
	return mgapi.Connection{Connection: mgapi.ConnectionSettings{RequireTLS: d.RequireTLS, SkipVerification: d.SkipVerification}}, nil
}

func (s *Server) updateConnection(c *Ctx) (any, error) {
	c.P.Accept("require_tls", "skip_verification")
	u, err := parseDomainUpdate(c.P)
	if err != nil {
		return nil, err
	}
	d, err := s.Domains.Update(c.R.Context(), c.Var("name"), u)
	if err != nil {
		return nil, err
	}
	return mgapi.ConnectionUpdated{
		Message:    "Domain connection settings have been updated, may take 10 minutes to fully propagate",
		RequireTLS: d.RequireTLS, SkipVerification: d.SkipVerification,
	}, nil
}

func (s *Server) updateDKIMSelector(c *Ctx) (any, error) {
	c.P.Accept("dkim_selector")
	sel, err := c.P.Required("dkim_selector")
	if err != nil {
		return nil, err
	}
	if _, err := s.Domains.Update(c.R.Context(), c.Var("name"), domains.UpdateRequest{DKIMSelector: &sel}); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "DKIM selector changed"}, nil
}

func (s *Server) updateWebPrefix(c *Ctx) (any, error) {
	c.P.Accept("web_prefix")
	prefix, err := c.P.Required("web_prefix")
	if err != nil {
		return nil, err
	}
	prefix = strings.ToLower(prefix)
	if _, err := s.Domains.Update(c.R.Context(), c.Var("name"), domains.UpdateRequest{WebPrefix: &prefix}); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "Domain web prefix updated"}, nil
}
