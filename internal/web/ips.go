package web

import (
	"slices"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/ippools"
	"github.com/salvo-email/salvo/internal/ips"
	"github.com/salvo-email/salvo/internal/store"
)

// Account Settings → IPs and pools: the node's source addresses
// (--source-ips) with their EHLO names, the dedicated IP pools (create,
// edit name, description and addresses, delete with the linked domains
// moved as DELETE /v3/ip_pools/{id} moves them), and which domains send
// from which addresses or pool, changed per domain. Every rule is
// ippools.Service's, the one the API's handlers use.

const ipsPath = prefix + "/ips"

func (s *Server) ipsRoutes() {
	s.page("GET "+ipsPath, s.ipsPage)
	s.form("POST "+ipsPath+"/pools", s.createPool)
	s.page("GET "+ipsPath+"/pools/{id}", s.poolPage)
	s.form("POST "+ipsPath+"/pools/{id}", s.updatePool)
	s.form("POST "+ipsPath+"/pools/{id}/delete", s.deletePool)
	s.form("POST "+ipsPath+"/domains", s.assignDomain)
}

// maxDomainsShown bounds the domain choices of the page.
const maxDomainsShown = 1000

type sourceRow struct {
	IP, EHLO string
	Pools    []store.IPPool
	Domains  []string // domains with the address in their own list
}

type poolRow struct {
	Pool    store.IPPool
	Domains []string
}

type assignRow struct {
	Domain string
	IPs    []string
	Pool   store.IPPool // zero when none (or missing)
	PoolID string
}

type ipsData struct {
	Sources  []sourceRow
	Pools    []poolRow
	Assigned []assignRow
	Domains  []store.Domain
	// Selected is the domain the assignment form starts with (?domain=),
	// with its current addresses and pool.
	Selected, SelectedPool string
	SelectedIPs            []string
}

func (s *Server) ipsPage(rq *request) error {
	ctx := rq.r.Context()
	pools, err := s.Pools.Pools(ctx)
	if err != nil {
		return err
	}
	assigned, err := s.Pools.Assigned(ctx)
	if err != nil {
		return err
	}
	ds, _, err := s.Regional.Domains(ctx, 0, maxDomainsShown)
	if err != nil {
		return err
	}
	d := ipsData{Domains: ds}
	byID := map[string]store.IPPool{}
	for _, p := range pools {
		byID[p.ID] = p
		row := poolRow{Pool: p}
		for _, dom := range assigned {
			if dom.PoolID == p.ID {
				row.Domains = append(row.Domains, dom.Name)
			}
		}
		d.Pools = append(d.Pools, row)
	}
	for _, src := range s.Pools.Sources.List() {
		row := sourceRow{IP: src.Addr.String(), EHLO: src.EHLO}
		for _, p := range pools {
			if slices.Contains(p.IPs, row.IP) {
				row.Pools = append(row.Pools, p)
			}
		}
		for _, dom := range assigned {
			if slices.ContainsFunc(ips.SplitList(dom.IPs), func(x string) bool { return ips.Canonical(x) == row.IP }) {
				row.Domains = append(row.Domains, dom.Name)
			}
		}
		d.Sources = append(d.Sources, row)
	}
	if name := strings.ToLower(strings.TrimSpace(rq.r.URL.Query().Get("domain"))); name != "" {
		for _, dom := range ds {
			if dom.Name == name {
				d.Selected, d.SelectedPool, d.SelectedIPs = dom.Name, dom.PoolID, ips.SplitList(dom.IPs)
			}
		}
	}
	for _, dom := range assigned {
		d.Assigned = append(d.Assigned, assignRow{Domain: dom.Name, IPs: ips.SplitList(dom.IPs), PoolID: dom.PoolID, Pool: byID[dom.PoolID]})
	}
	return s.show(rq, "ips", "IPs and pools", "ips", d)
}

func poolPath(id string) string { return ipsPath + "/pools/" + id }

func (s *Server) createPool(rq *request) (result, error) {
	f := rq.r.PostForm
	p, err := s.Pools.Create(rq.r.Context(), f.Get("name"), strings.TrimSpace(f.Get("description")), f["ip"])
	if err != nil {
		return result{To: ipsPath}, err
	}
	s.Log.Info("ip pool created", "pool", p.ID, "user_id", rq.ses.User.ID)
	return result{To: ipsPath, Flash: flash{Notice: "IP pool " + p.Name + " was created."}}, nil
}

type poolData struct {
	Pool    store.IPPool
	Sources []sourceRow
	Others  []store.IPPool
	Domains []store.Domain
}

func (s *Server) poolPage(rq *request) error {
	ctx := rq.r.Context()
	p, err := s.Pools.Pool(ctx, rq.r.PathValue("id"))
	if err != nil {
		return err
	}
	d := poolData{Pool: p}
	for _, src := range s.Pools.Sources.List() {
		d.Sources = append(d.Sources, sourceRow{IP: src.Addr.String(), EHLO: src.EHLO})
	}
	if d.Domains, err = s.Pools.Linked(ctx, p.ID); err != nil {
		return err
	}
	all, err := s.Pools.Pools(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != p.ID {
			d.Others = append(d.Others, o)
		}
	}
	return s.show(rq, "ip_pool", "IP pool "+p.Name, "ips", d)
}

func (s *Server) updatePool(rq *request) (result, error) {
	id := rq.r.PathValue("id")
	f := rq.r.PostForm
	name, desc := f.Get("name"), strings.TrimSpace(f.Get("description"))
	addrs := append([]string{}, f["ip"]...) // none ticked: the pool is emptied
	if err := s.Pools.Update(rq.r.Context(), id, ippools.Edit{Name: &name, Description: &desc, IPs: addrs}); err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return result{}, err
		}
		return result{To: poolPath(id)}, err
	}
	s.Log.Info("ip pool updated", "pool", id, "user_id", rq.ses.User.ID)
	return result{To: ipsPath, Flash: flash{Notice: "IP pool " + strings.TrimSpace(name) + " was saved."}}, nil
}

// deletePool deletes a pool; replacement is "", "pool:<id>" or "ip:<addr>".
func (s *Server) deletePool(rq *request) (result, error) {
	id := rq.r.PathValue("id")
	var repPool, repIP string
	switch kind, v, _ := strings.Cut(rq.r.PostForm.Get("replacement"), ":"); kind {
	case "pool":
		repPool = v
	case "ip":
		repIP = v
	}
	moved, err := s.Pools.Delete(rq.r.Context(), id, repPool, repIP)
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return result{}, err
		}
		return result{To: poolPath(id)}, err
	}
	s.Log.Info("ip pool deleted", "pool", id, "moved_domains", len(moved), "user_id", rq.ses.User.ID)
	msg := "The IP pool was deleted."
	if len(moved) > 0 {
		names := make([]string, len(moved))
		for i, d := range moved {
			names[i] = d.Name
		}
		msg += " Moved: " + strings.Join(names, ", ") + "."
	}
	return result{To: ipsPath, Flash: flash{Notice: msg}}, nil
}

func (s *Server) assignDomain(rq *request) (result, error) {
	res := result{To: ipsPath}
	f := rq.r.PostForm
	name := strings.TrimSpace(f.Get("domain"))
	if name == "" {
		return res, fault.Invalidf("Choose a domain.")
	}
	d, err := s.Domains.Get(rq.r.Context(), name)
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.NotFound {
			return res, fault.Invalidf("There is no domain %s.", name)
		}
		return res, err
	}
	if err := s.Pools.AssignDomain(rq.r.Context(), d, f["ip"], strings.TrimSpace(f.Get("pool"))); err != nil {
		return res, err
	}
	s.Log.Info("domain addresses assigned", "domain", d.Name, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "The addresses of " + d.Name + " were saved."
	return res, nil
}
