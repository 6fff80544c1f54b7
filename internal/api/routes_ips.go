package api

import (
	"net/http"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ippools"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// ipsRoutes registers the node's source addresses, domain IP assignments
// and dedicated IP pools (docs/mailgun-contract.md §13.1, §11.4). The addresses are the
// node's --source-ips; an address that is not one of them is refused with
// a 400 wherever it is given. Pools and assignments are region-bound.
func (s *Server) ipsRoutes() {
	const get, post, put, del, patch = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch
	s.handle(get, "/v3/ips", auth.Account, s.listIPs)
	s.handle(get, "/v3/ips/{ip}", auth.Account, s.getIP)
	s.handle(get, "/v3/domains/{domain}/ips", auth.Account, s.listDomainIPs)
	s.handle(post, "/v3/domains/{domain}/ips", auth.Account, s.addDomainIP)
	s.handle(del, "/v3/domains/{domain}/ips/{ip}", auth.Account, s.deleteDomainIP)
	// mailgun.js's removeIpFromDomainPool, unlinkDomainPool, removeDomainPool.
	s.handle(del, "/v3/domains/{domain}/pool/{ip}", auth.Account, s.deleteDomainIP)
	s.handle(get, "/v3/ip_pools", auth.Account, s.listIPPools)
	s.handle(post, "/v3/ip_pools", auth.Account, s.createIPPool)
	s.handle(get, "/v3/ip_pools/{pool}", auth.Account, s.getIPPool)
	s.handle(patch, "/v3/ip_pools/{pool}", auth.Account, s.updateIPPool)
	s.handle(del, "/v3/ip_pools/{pool}", auth.Account, s.deleteIPPool)
	s.handle(get, "/v3/ip_pools/{pool}/domains", auth.Account, s.ipPoolDomains)
	s.handle(put, "/v3/ip_pools/{pool}/ips/{ip}", auth.Account, s.addIPToPool)
	s.handle(del, "/v3/ip_pools/{pool}/ips/{ip}", auth.Account, s.removeIPFromPool)
	s.handle(post, "/v3/ip_pools/{pool}/ips.json", auth.Account, s.addIPsToPool)
}

var success = mgapi.Message{Message: "success"}

// pools is the pool rules' service on this server's store and sources
// (the dashboard's IPs and pools page uses the same service).
func (s *Server) pools() *ippools.Service {
	return &ippools.Service{Store: s.Regional, Sources: s.Sources, Now: s.Now}
}

// listIPs is GET /v3/ips: every source address of the node (all are
// dedicated to this server, none is on a warm-up; enabled is accepted).
func (s *Server) listIPs(c *Ctx) (any, error) {
	c.P.Accept("dedicated", "enabled")
	out := mgapi.IPList{Items: []string{}, Details: []mgapi.IPDetail{}, AssignableToPools: []string{}}
	for _, src := range s.Sources.List() {
		ip := src.Addr.String()
		out.Items = append(out.Items, ip)
		out.Details = append(out.Details, mgapi.IPDetail{IP: ip})
		out.AssignableToPools = append(out.AssignableToPools, ip)
	}
	out.TotalCount = len(out.Items)
	return out, nil
}

// getIP is GET /v3/ips/{ip}; rdns is the address's EHLO name.
func (s *Server) getIP(c *Ctx) (any, error) {
	src, ok := s.Sources.Lookup(c.Var("ip"))
	if !ok {
		return nil, fault.NotFoundf("IP not found")
	}
	return mgapi.IP{IP: src.Addr.String(), RDNS: src.EHLO, Dedicated: true}, nil
}

// listDomainIPs is GET /v3/domains/{d}/ips: the addresses the domain sends
// from, its own and its pool's.
func (s *Server) listDomainIPs(c *Ctx) (any, error) {
	list, err := s.pools().DomainIPs(c.R.Context(), c.Domain)
	if err != nil {
		return nil, err
	}
	return mgapi.IPList{Items: append([]string{}, list...), TotalCount: len(list)}, nil
}

// addDomainIP is POST /v3/domains/{d}/ips with ip (an address of the
// node) or pool_id (a pool, which replaces any pool linked before).
func (s *Server) addDomainIP(c *Ctx) (any, error) {
	c.P.Accept("ip", "pool_id")
	if id := c.P.Get("pool_id"); id != "" {
		return success, s.pools().LinkDomainPool(c.R.Context(), c.Domain, id)
	}
	return success, s.pools().AddDomainIP(c.R.Context(), c.Domain, c.P.Get("ip"))
}

// deleteDomainIP is DELETE /v3/domains/{d}/ips/{ip} and …/pool/{ip}: the
// ip "ip_pool" unlinks the domain's pool (Mailgun's form), optionally
// replaced by the pool_id or ip given in the query; "all" removes every
// assignment (the domain then sends from any of the node's addresses).
func (s *Server) deleteDomainIP(c *Ctx) (any, error) {
	c.P.Accept("pool_id", "ip")
	ctx, d, p := c.R.Context(), c.Domain, s.pools()
	switch c.Var("ip") {
	case "all":
		d.IPs, d.PoolID = "", ""
		return success, p.SaveDomain(ctx, d)
	case "ip_pool":
		if d.PoolID == "" {
			return nil, fault.NotFoundf("Domain has no IP pool linked")
		}
		if id := c.P.Get("pool_id"); id != "" {
			return success, p.LinkDomainPool(ctx, d, id)
		}
		d.PoolID = ""
		if ip := c.P.Get("ip"); ip != "" {
			return success, p.AddDomainIP(ctx, d, ip)
		}
		return success, p.SaveDomain(ctx, d)
	}
	return success, p.RemoveDomainIP(ctx, d, c.Var("ip"))
}

// checkDomainIPs checks a new domain's ips (only the node's source
// addresses) and pool_id (an existing pool).
func (s *Server) checkDomainIPs(c *Ctx, req *domains.CreateRequest) error {
	list, err := s.pools().OurIPs([]string{req.IPs})
	if err != nil {
		return err
	}
	req.IPs = strings.Join(list, ",")
	if req.PoolID != "" {
		err = s.pools().PoolParam(c.R.Context(), req.PoolID)
	}
	return err
}

// visibleDomains keeps the domains of ds the request's account may see
// in a shared pool: a subaccount its own, the parent all of them (the
// pools are the parent's).
func visibleDomains(c *Ctx, ds []store.Domain) []store.Domain {
	if c.Tenant.Primary() {
		return ds
	}
	var out []store.Domain
	for _, d := range ds {
		if c.Tenant.Owns(d.AccountID) {
			out = append(out, d)
		}
	}
	return out
}

func poolOut(p store.IPPool, linked bool) mgapi.IPPool {
	return mgapi.IPPool{PoolID: p.ID, Name: p.Name, Description: p.Description, IPs: append([]string{}, p.IPs...), IsLinked: linked}
}

// listIPPools is GET /v3/ip_pools.
func (s *Server) listIPPools(c *Ctx) (any, error) {
	ps, err := s.pools().Pools(c.R.Context())
	if err != nil {
		return nil, err
	}
	out := mgapi.IPPools{IPPools: []mgapi.IPPool{}, Message: "success"}
	for _, p := range ps {
		ds, err := s.pools().Linked(c.R.Context(), p.ID)
		if err != nil {
			return nil, err
		}
		out.IPPools = append(out.IPPools, poolOut(p, len(ds) > 0))
	}
	return out, nil
}

// createIPPool is POST /v3/ip_pools with name, description and ips
// (repeated or comma-separated; ip is accepted too).
func (s *Server) createIPPool(c *Ctx) (any, error) {
	c.P.Accept("name", "description", "ips", "ip")
	name, err := c.P.Required("name")
	if err != nil {
		return nil, err
	}
	p, err := s.pools().Create(c.R.Context(), name, c.P.Raw("description"), append(c.P.All("ips"), c.P.All("ip")...))
	if err != nil {
		return nil, err
	}
	return mgapi.IPPoolCreated{Message: "success", PoolID: p.ID}, nil
}

// getIPPool is GET /v3/ip_pools/{id}.
func (s *Server) getIPPool(c *Ctx) (any, error) {
	p, err := s.pools().Pool(c.R.Context(), c.Var("pool"))
	if err != nil {
		return nil, err
	}
	ds, err := s.pools().Linked(c.R.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	out := mgapi.IPPoolLinked{IPPool: poolOut(p, len(ds) > 0), LinkedDomains: []string{}}
	for _, d := range visibleDomains(c, ds) {
		out.LinkedDomains = append(out.LinkedDomains, d.Name)
	}
	return mgapi.IPPoolDetails{Details: out, Message: "success"}, nil
}

// updateIPPool is PATCH /v3/ip_pools/{id}: name, description, and add_ip /
// remove_ip (repeatable); ips replaces the whole list.
func (s *Server) updateIPPool(c *Ctx) (any, error) {
	c.P.Accept("name", "description", "add_ip", "remove_ip", "ips")
	e := ippools.Edit{Add: c.P.All("add_ip"), Remove: c.P.All("remove_ip")}
	if c.P.Has("name") {
		name := c.P.Get("name")
		e.Name = &name
	}
	if c.P.Has("description") {
		desc := c.P.Raw("description")
		e.Description = &desc
	}
	if c.P.Has("ips") {
		e.IPs = append([]string{}, c.P.All("ips")...)
	}
	return success, s.pools().Update(c.R.Context(), c.Var("pool"), e)
}

// deleteIPPool is DELETE /v3/ip_pools/{id}; domains linked to it move to
// the replacement pool_id or ip given, else to the default addresses.
func (s *Server) deleteIPPool(c *Ctx) (any, error) {
	c.P.Accept("pool_id", "ip")
	if _, err := s.pools().Delete(c.R.Context(), c.Var("pool"), c.P.Get("pool_id"), c.P.Get("ip")); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "started"}, nil
}

// ipPoolDomains is GET /v3/ip_pools/{id}/domains (one page: every linked
// domain).
func (s *Server) ipPoolDomains(c *Ctx) (any, error) {
	c.P.Accept("limit", "page")
	if _, err := s.pools().Pool(c.R.Context(), c.Var("pool")); err != nil {
		return nil, err
	}
	ds, err := s.pools().Linked(c.R.Context(), c.Var("pool"))
	if err != nil {
		return nil, err
	}
	out := mgapi.IPPoolDomains{Domains: []mgapi.IPPoolDomain{}}
	for _, d := range visibleDomains(c, ds) {
		out.Domains = append(out.Domains, mgapi.IPPoolDomain{ID: d.ID, Name: d.Name})
	}
	return out, nil
}

// addIPToPool is PUT /v3/ip_pools/{id}/ips/{ip}.
func (s *Server) addIPToPool(c *Ctx) (any, error) {
	return success, s.pools().Update(c.R.Context(), c.Var("pool"), ippools.Edit{Add: []string{c.Var("ip")}})
}

// removeIPFromPool is DELETE /v3/ip_pools/{id}/ips/{ip}.
func (s *Server) removeIPFromPool(c *Ctx) (any, error) {
	return success, s.pools().Update(c.R.Context(), c.Var("pool"), ippools.Edit{Remove: []string{c.Var("ip")}, StrictRemove: true})
}

// addIPsToPool is POST /v3/ip_pools/{id}/ips.json with {"ips": [...]}.
func (s *Server) addIPsToPool(c *Ctx) (any, error) {
	c.P.Accept("ips")
	if len(c.P.All("ips")) == 0 {
		return nil, fault.Invalidf("Parameter 'ips' is missing")
	}
	return success, s.pools().Update(c.R.Context(), c.Var("pool"), ippools.Edit{Add: c.P.All("ips")})
}
