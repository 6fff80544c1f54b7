// Package ippools holds the rules of dedicated IP pools and of the
// addresses a domain sends from, for both the API (/v3/ip_pools,
// /v3/domains/{d}/ips) and the dashboard's IPs and pools page.
//
// Invariants: a pool, and a domain's own list, holds only addresses that
// are among the node's source addresses (--source-ips), in canonical
// form, each once; a domain linked to a pool that is deleted is moved to
// the replacement pool or address given, else to the node's default
// addresses (it is never left pointing at a missing pool).
//
// Failure rules: client mistakes are *fault.Error values whose messages
// the API returns as they are (an unknown address or a pool named by a
// parameter is Invalid, a pool named by the path NotFound); store errors
// are returned unchanged.
package ippools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/store"
)

// Service applies the pool rules on a region's store.
type Service struct {
	Store   store.Regional
	Sources *ips.Set
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// OurIP returns ip in canonical form, or the Invalid error for an address
// that is not one of the node's source addresses.
func (s *Service) OurIP(ip string) (string, error) {
	if n, ok := s.Sources.Normalize(ip); ok {
		return n, nil
	}
	if strings.TrimSpace(ip) == "" {
		return "", fault.Invalidf("Parameter 'ip' is missing")
	}
	return "", fault.Invalidf("IP %s is not one of this server's source addresses (--source-ips)", ip)
}

// OurIPs checks a list of addresses (repeated or comma-separated values)
// and returns them canonical and without repeats.
func (s *Service) OurIPs(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, ip := range ips.SplitList(v) {
			n, err := s.OurIP(ip)
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

// SameIP reports whether a and b are the same address.
func SameIP(a, b string) bool { return ips.Canonical(a) == ips.Canonical(b) }

// Pool returns the pool id, NotFound "IP pool not found" when none.
func (s *Service) Pool(ctx context.Context, id string) (store.IPPool, error) {
	p, err := s.Store.IPPool(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, fault.NotFoundf("IP pool not found")
	}
	return p, err
}

// PoolParam checks a pool named by a parameter: an unknown one is the
// client's mistake (Invalid), unlike an unknown pool in the path.
func (s *Service) PoolParam(ctx context.Context, id string) error {
	_, err := s.Store.IPPool(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fault.Invalidf("IP pool %s not found", id)
	}
	return err
}

// Pools lists every pool by name.
func (s *Service) Pools(ctx context.Context) ([]store.IPPool, error) {
	return s.Store.IPPools(ctx)
}

// Linked returns the domains whose pool is id.
func (s *Service) Linked(ctx context.Context, id string) ([]store.Domain, error) {
	var out []store.Domain
	err := s.eachDomain(ctx, func(d store.Domain) {
		if d.PoolID == id {
			out = append(out, d)
		}
	})
	return out, err
}

// Assigned returns every domain that has its own addresses or a pool.
func (s *Service) Assigned(ctx context.Context) ([]store.Domain, error) {
	var out []store.Domain
	err := s.eachDomain(ctx, func(d store.Domain) {
		if d.PoolID != "" || d.IPs != "" {
			out = append(out, d)
		}
	})
	return out, err
}

func (s *Service) eachDomain(ctx context.Context, f func(store.Domain)) error {
	for skip := 0; ; skip += 1000 {
		ds, total, err := s.Store.Domains(ctx, skip, 1000)
		if err != nil {
			return err
		}
		for _, d := range ds {
			f(d)
		}
		if skip+len(ds) >= total || len(ds) == 0 {
			return nil
		}
	}
}

// Create stores a new pool of the addresses given (each checked).
func (s *Service) Create(ctx context.Context, name, description string, addrs []string) (store.IPPool, error) {
	if strings.TrimSpace(name) == "" {
		return store.IPPool{}, fault.Invalidf("Parameter 'name' is missing")
	}
	list, err := s.OurIPs(addrs)
	if err != nil {
		return store.IPPool{}, err
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	p := store.IPPool{ID: hex.EncodeToString(b), Name: strings.TrimSpace(name), Description: description, IPs: list, CreatedAt: s.now()}
	return p, s.Store.CreateIPPool(ctx, p)
}

// Edit is a change to a pool; nil fields are left as they are.
type Edit struct {
	Name, Description *string
	// IPs, when not nil, replaces the whole list.
	IPs []string
	// Add and Remove are applied after IPs. Removing an address the pool
	// does not hold is an error only when StrictRemove is set.
	Add, Remove  []string
	StrictRemove bool
}

// Update applies e to the pool id.
func (s *Service) Update(ctx context.Context, id string, e Edit) error {
	p, err := s.Pool(ctx, id)
	if err != nil {
		return err
	}
	if e.Name != nil {
		if p.Name = strings.TrimSpace(*e.Name); p.Name == "" {
			return fault.Invalidf("Parameter 'name' must not be empty")
		}
	}
	if e.Description != nil {
		p.Description = *e.Description
	}
	if e.IPs != nil {
		if p.IPs, err = s.OurIPs(e.IPs); err != nil {
			return err
		}
	}
	add, err := s.OurIPs(e.Add)
	if err != nil {
		return err
	}
	for _, ip := range add {
		if !slices.Contains(p.IPs, ip) {
			p.IPs = append(p.IPs, ip)
		}
	}
	for _, v := range e.Remove {
		for _, ip := range ips.SplitList(v) {
			if e.StrictRemove && !slices.ContainsFunc(p.IPs, func(x string) bool { return SameIP(x, ip) }) {
				return fault.NotFoundf("IP not found in pool")
			}
			p.IPs = slices.DeleteFunc(p.IPs, func(x string) bool { return SameIP(x, ip) })
		}
	}
	return s.Store.UpdateIPPool(ctx, p)
}

// Delete removes the pool id; the domains linked to it move to the pool
// repPool or gain the address repIP, else send from the default
// addresses. It returns the domains moved.
func (s *Service) Delete(ctx context.Context, id, repPool, repIP string) ([]store.Domain, error) {
	if _, err := s.Pool(ctx, id); err != nil {
		return nil, err
	}
	if repPool != "" {
		if err := s.PoolParam(ctx, repPool); err != nil {
			return nil, err
		}
	}
	if repIP != "" {
		var err error
		if repIP, err = s.OurIP(repIP); err != nil {
			return nil, err
		}
	}
	ds, err := s.Linked(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		d.PoolID = repPool
		if list := ips.SplitList(d.IPs); repIP != "" && !slices.Contains(list, repIP) {
			d.IPs = strings.Join(append(list, repIP), ",")
		}
		if err := s.SaveDomain(ctx, d); err != nil {
			return nil, err
		}
	}
	return ds, s.Store.DeleteIPPool(ctx, id)
}

// SaveDomain stores d's assignments (and whatever else changed).
func (s *Service) SaveDomain(ctx context.Context, d store.Domain) error {
	d.UpdatedAt = s.now()
	return s.Store.UpdateDomain(ctx, d)
}

// AddDomainIP adds a source address to the domain's own list.
func (s *Service) AddDomainIP(ctx context.Context, d store.Domain, ip string) error {
	n, err := s.OurIP(ip)
	if err != nil {
		return err
	}
	if list := ips.SplitList(d.IPs); !slices.Contains(list, n) {
		d.IPs = strings.Join(append(list, n), ",")
	}
	return s.SaveDomain(ctx, d)
}

// LinkDomainPool links the domain to pool id (replacing any pool linked
// before); an empty id unlinks it.
func (s *Service) LinkDomainPool(ctx context.Context, d store.Domain, id string) error {
	if id != "" {
		if err := s.PoolParam(ctx, id); err != nil {
			return err
		}
	}
	d.PoolID = id
	return s.SaveDomain(ctx, d)
}

// RemoveDomainIP removes ip from the domain's own list; NotFound "IP not
// found" when the list does not hold it.
func (s *Service) RemoveDomainIP(ctx context.Context, d store.Domain, ip string) error {
	list := ips.SplitList(d.IPs)
	i := slices.IndexFunc(list, func(x string) bool { return SameIP(x, ip) })
	if i < 0 {
		return fault.NotFoundf("IP not found")
	}
	d.IPs = strings.Join(slices.Delete(list, i, i+1), ",")
	return s.SaveDomain(ctx, d)
}

// DomainIPs returns the addresses the domain sends from: its own, then
// its pool's.
func (s *Service) DomainIPs(ctx context.Context, d store.Domain) ([]string, error) {
	list := ips.SplitList(d.IPs)
	if d.PoolID != "" {
		p, err := s.Store.IPPool(ctx, d.PoolID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		for _, ip := range p.IPs {
			if !slices.Contains(list, ip) {
				list = append(list, ip)
			}
		}
	}
	return list, nil
}

// AssignDomain sets the domain's own addresses to addrs (each checked)
// and its pool to pool ("" for none): with neither it sends from any of
// the node's addresses.
func (s *Service) AssignDomain(ctx context.Context, d store.Domain, addrs []string, pool string) error {
	list, err := s.OurIPs(addrs)
	if err != nil {
		return err
	}
	if pool != "" {
		if err := s.PoolParam(ctx, pool); err != nil {
			return err
		}
	}
	d.IPs, d.PoolID = strings.Join(list, ","), pool
	return s.SaveDomain(ctx, d)
}
