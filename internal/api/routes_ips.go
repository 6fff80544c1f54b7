package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/domains"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ips"
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

// ourIP returns ip in canonical form, or the 400 for an address that is
// not one of the node's source addresses.
func (s *Server) ourIP(ip string) (string, error) {
	if n, ok := s.Sources.Normalize(ip); ok {
		return n, nil
	}
	if strings.TrimSpace(ip) == "" {
		return "", fault.Invalidf("Parameter 'ip' is missing")
	}
	return "", fault.Invalidf("IP %s is not one of this server's source addresses (--source-ips)", ip)
}

// ourIPs checks a list of addresses (repeated or comma-separated values).
func (s *Server) ourIPs(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, ip := range ips.SplitList(v) {
			n, err := s.ourIP(ip)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
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
	list := ips.SplitList(c.Domain.IPs)
	if c.Domain.PoolID != "" {
		p, err := s.Regional.IPPool(c.R.Context(), c.Domain.PoolID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		for _, ip := range p.IPs {
			if !slices.Contains(list, ip) {
				list = append(list, ip)
			}
		}
	}
	return mgapi.IPList{Items: append([]string{}, list...), TotalCount: len(list)}, nil
}

// addDomainIP is POST /v3/domains/{d}/ips with ip (an address of the
// node) or pool_id (a pool, which replaces any pool linked before).
func (s *Server) addDomainIP(c *Ctx) (any, error) {
	c.P.Accept("ip", "pool_id")
	d := c.Domain
	if id := c.P.Get("pool_id"); id != "" {
		if err := s.poolParam(c.R.Context(), id); err != nil {
			return nil, err
		}
		d.PoolID = id
	} else {
		ip, err := s.ourIP(c.P.Get("ip"))
		if err != nil {
			return nil, err
		}
		list := ips.SplitList(d.IPs)
		if !slices.Contains(list, ip) {
			d.IPs = strings.Join(append(list, ip), ",")
		}
	}
	return success, s.saveDomain(c.R.Context(), d)
}

// deleteDomainIP is DELETE /v3/domains/{d}/ips/{ip} and …/pool/{ip}: the
// ip "ip_pool" unlinks the domain's pool (Mailgun's form), optionally
// replaced by the pool_id or ip given in the query; "all" removes every
// assignment (the domain then sends from any of the node's addresses).
func (s *Server) deleteDomainIP(c *Ctx) (any, error) {
	c.P.Accept("pool_id", "ip")
	d := c.Domain
	if c.Var("ip") == "all" {
		d.IPs, d.PoolID = "", ""
		return success, s.saveDomain(c.R.Context(), d)
	}
	if c.Var("ip") == "ip_pool" {
		if d.PoolID == "" {
			return nil, fault.NotFoundf("Domain has no IP pool linked")
		}
		d.PoolID = ""
		if id := c.P.Get("pool_id"); id != "" {
			if err := s.poolParam(c.R.Context(), id); err != nil {
				return nil, err
			}
			d.PoolID = id
		} else if ip := c.P.Get("ip"); ip != "" {
			n, err := s.ourIP(ip)
			if err != nil {
				return nil, err
			}
			if list := ips.SplitList(d.IPs); !slices.Contains(list, n) {
				d.IPs = strings.Join(append(list, n), ",")
			}
		}
		return success, s.saveDomain(c.R.Context(), d)
	}
	list := ips.SplitList(d.IPs)
	i := slices.IndexFunc(list, func(ip string) bool { return sameIP(ip, c.Var("ip")) })
	if i < 0 {
		return nil, fault.NotFoundf("IP not found")
	}
	d.IPs = strings.Join(slices.Delete(list, i, i+1), ",")
	return success, s.saveDomain(c.R.Context(), d)
}

// checkDomainIPs checks a new domain's ips (only the node's source
// addresses) and pool_id (an existing pool).
func (s *Server) checkDomainIPs(c *Ctx, req *domains.CreateRequest) error {
	list, err := s.ourIPs([]string{req.IPs})
	if err != nil {
		return err
	}
	req.IPs = strings.Join(list, ",")
	if req.PoolID != "" {
		err = s.poolParam(c.R.Context(), req.PoolID)
	}
	return err
}

func sameIP(a, b string) bool { return ips.Canonical(a) == ips.Canonical(b) }

func (s *Server) saveDomain(ctx context.Context, d store.Domain) error {
	d.UpdatedAt = s.Now().UTC()
	return s.Regional.UpdateDomain(ctx, d)
}

func (s *Server) pool(ctx context.Context, id string) (store.IPPool, error) {
	p, err := s.Regional.IPPool(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, fault.NotFoundf("IP pool not found")
	}
	return p, err
}

// poolParam checks a pool named by a parameter: an unknown one is the
// client's mistake (400), unlike an unknown pool in the path (404).
func (s *Server) poolParam(ctx context.Context, id string) error {
	_, err := s.Regional.IPPool(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fault.Invalidf("IP pool %s not found", id)
	}
	return err
}

// linked returns the names of the domains whose pool is id.
func (s *Server) linked(ctx context.Context, id string) ([]store.Domain, error) {
	var out []store.Domain
	for skip := 0; ; skip += 1000 {
		ds, total, err := s.Regional.Domains(ctx, skip, 1000)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.PoolID == id {
				out = append(out, d)
			}
		}
		if skip+len(ds) >= total || len(ds) == 0 {
			return out, nil
		}
	}
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
	ps, err := s.Regional.IPPools(c.R.Context())
	if err != nil {
		return nil, err
	}
	out := mgapi.IPPools{IPPools: []mgapi.IPPool{}, Message: "success"}
	for _, p := range ps {
		ds, err := s.linked(c.R.Context(), p.ID)
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
	list, err := s.ourIPs(append(c.P.All("ips"), c.P.All("ip")...))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	p := store.IPPool{ID: hex.EncodeToString(b), Name: name, Description: c.P.Raw("description"), IPs: list, CreatedAt: s.Now().UTC()}
	if err := s.Regional.CreateIPPool(c.R.Context(), p); err != nil {
		return nil, err
	}
	return mgapi.IPPoolCreated{Message: "success", PoolID: p.ID}, nil
}

// getIPPool is GET /v3/ip_pools/{id}.
func (s *Server) getIPPool(c *Ctx) (any, error) {
	p, err := s.pool(c.R.Context(), c.Var("pool"))
	if err != nil {
		return nil, err
	}
	ds, err := s.linked(c.R.Context(), p.ID)
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
	p, err := s.pool(c.R.Context(), c.Var("pool"))
	if err != nil {
		return nil, err
	}
	if c.P.Has("name") {
		if p.Name = c.P.Get("name"); p.Name == "" {
			return nil, fault.Invalidf("Parameter 'name' must not be empty")
		}
	}
	if c.P.Has("description") {
		p.Description = c.P.Raw("description")
	}
	if c.P.Has("ips") {
		if p.IPs, err = s.ourIPs(c.P.All("ips")); err != nil {
			return nil, err
		}
	}
	add, err := s.ourIPs(c.P.All("add_ip"))
	if err != nil {
		return nil, err
	}
	for _, ip := range add {
		if !slices.Contains(p.IPs, ip) {
			p.IPs = append(p.IPs, ip)
		}
	}
	for _, v := range c.P.All("remove_ip") {
		for _, ip := range ips.SplitList(v) {
			p.IPs = slices.DeleteFunc(p.IPs, func(x string) bool { return sameIP(x, ip) })
		}
	}
	return success, s.Regional.UpdateIPPool(c.R.Context(), p)
}

// deleteIPPool is DELETE /v3/ip_pools/{id}; domains linked to it move to
// the replacement pool_id or ip given, else to the default addresses.
func (s *Server) deleteIPPool(c *Ctx) (any, error) {
	c.P.Accept("pool_id", "ip")
	ctx := c.R.Context()
	if _, err := s.pool(ctx, c.Var("pool")); err != nil {
		return nil, err
	}
	repPool, repIP := c.P.Get("pool_id"), c.P.Get("ip")
	if repPool != "" {
		if err := s.poolParam(ctx, repPool); err != nil {
			return nil, err
		}
	}
	if repIP != "" {
		var err error
		if repIP, err = s.ourIP(repIP); err != nil {
			return nil, err
		}
	}
	ds, err := s.linked(ctx, c.Var("pool"))
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		d.PoolID = repPool
		if list := ips.SplitList(d.IPs); repIP != "" && !slices.Contains(list, repIP) {
			d.IPs = strings.Join(append(list, repIP), ",")
		}
		if err := s.saveDomain(ctx, d); err != nil {
			return nil, err
		}
	}
	return mgapi.Message{Message: "started"}, s.Regional.DeleteIPPool(ctx, c.Var("pool"))
}

// ipPoolDomains is GET /v3/ip_pools/{id}/domains (one page: every linked
// domain).
func (s *Server) ipPoolDomains(c *Ctx) (any, error) {
	c.P.Accept("limit", "page")
	if _, err := s.pool(c.R.Context(), c.Var("pool")); err != nil {
		return nil, err
	}
	ds, err := s.linked(c.R.Context(), c.Var("pool"))
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
	return s.changePool(c, []string{c.Var("ip")}, nil)
}

// removeIPFromPool is DELETE /v3/ip_pools/{id}/ips/{ip}.
func (s *Server) removeIPFromPool(c *Ctx) (any, error) {
	return s.changePool(c, nil, []string{c.Var("ip")})
}

// addIPsToPool is POST /v3/ip_pools/{id}/ips.json with {"ips": [...]}.
func (s *Server) addIPsToPool(c *Ctx) (any, error) {
	c.P.Accept("ips")
	if len(c.P.All("ips")) == 0 {
		return nil, fault.Invalidf("Parameter 'ips' is missing")
	}
	return s.changePool(c, c.P.All("ips"), nil)
}

func (s *Server) changePool(c *Ctx, add, remove []string) (any, error) {
	p, err := s.pool(c.R.Context(), c.Var("pool"))
	if err != nil {
		return nil, err
	}
	list, err := s.ourIPs(add)
	if err != nil {
		return nil, err
	}
	for _, ip := range list {
		if !slices.Contains(p.IPs, ip) {
			p.IPs = append(p.IPs, ip)
		}
	}
	for _, ip := range remove {
		i := slices.IndexFunc(p.IPs, func(x string) bool { return sameIP(x, ip) })
		if i < 0 {
			return nil, fault.NotFoundf("IP not found in pool")
		}
		p.IPs = slices.Delete(p.IPs, i, i+1)
	}
	return success, s.Regional.UpdateIPPool(c.R.Context(), p)
}
