package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/stats"
	"github.com/salvo-email/salvo/internal/store"
)

// tagLimit is the number of tags a domain may have, as GET …/limits/tag
// reports it (Mailgun's default plans allow a few thousand). It is
// reported, not enforced.
const tagLimit = 5000

// statsRoutes registers tags (docs/mailgun-contract.md §10.1, both the legacy /tags/{tag} paths
// and the newer /tag?tag= ones), stats (docs/mailgun-contract.md §10.2) and metrics (docs/mailgun-contract.md §10.3).
func (s *Server) statsRoutes() {
	const get, put, del = http.MethodGet, http.MethodPut, http.MethodDelete
	s.handle(get, "/v3/{domain}/tags", auth.Account, s.listTags)
	s.handle(get, "/v3/{domain}/tags/{tag}", auth.Account, s.getTag)
	s.handle(put, "/v3/{domain}/tags/{tag}", auth.Account, s.updateTag)
	s.handle(del, "/v3/{domain}/tags/{tag}", auth.Account, s.deleteTag)
	s.handle(get, "/v3/{domain}/tags/{tag}/stats", auth.Account, s.tagStats)
	s.handle(get, "/v3/{domain}/tag", auth.Account, s.getTag)
	s.handle(put, "/v3/{domain}/tag", auth.Account, s.updateTag)
	s.handle(del, "/v3/{domain}/tag", auth.Account, s.deleteTag)
	s.handle(get, "/v3/{domain}/tag/stats", auth.Account, s.tagStats)
	s.handle(get, "/v3/domains/{domain}/limits/tag", auth.Account, s.tagLimits)

	s.handle(get, "/v3/{domain}/stats/total", auth.Account, s.domainStats)
	s.handle(get, "/v3/stats/total", auth.Account, s.accountStats)
	s.handle(http.MethodPost, "/v1/analytics/metrics", auth.Account, s.metricsQuery)
}

func tagJSON(t store.Tag) mgapi.Tag {
	first, last := t.FirstSeen.UTC().Truncate(time.Second), t.LastSeen.UTC().Truncate(time.Second)
	return mgapi.Tag{Tag: t.Name, Description: t.Description, FirstSeen: &first, LastSeen: &last}
}

// tagName is the tag a request names, in the path or in ?tag= (the newer
// paths); tags are stored lower case.
func tagName(c *Ctx) (string, error) {
	t := c.Var("tag")
	if t == "" {
		t = c.P.Raw("tag")
	}
	if strings.TrimSpace(t) == "" {
		return "", fault.Invalidf("Missing mandatory parameter: tag")
	}
	return strings.ToLower(strings.TrimSpace(t)), nil
}

// mustTag reads the request's tag, 404 "Tag not found" when unknown.
func (s *Server) mustTag(c *Ctx) (store.Tag, error) {
	name, err := tagName(c)
	if err != nil {
		return store.Tag{}, err
	}
	t, err := s.Regional.Tag(c.R.Context(), c.Domain.Name, name)
	if errors.Is(err, store.ErrNotFound) {
		return t, fault.NotFoundf("Tag not found")
	}
	return t, err
}

// listTags pages tags by name. Links carry the pivot as "p": mailgun-go's
// TagIterator refuses a next link with a "tag" parameter (docs/mailgun-contract.md §10.1); "tag" is
// accepted too.
func (s *Server) listTags(c *Ctx) (any, error) {
	c.P.Accept("limit", "page", "prefix", "tag", "p")
	pp, err := readPage(c.P, "prefix", "tag", "p")
	if err != nil {
		return nil, err
	}
	q := store.TagQuery{Domain: c.Domain.Name, Prefix: strings.ToLower(pp.term), Limit: pp.limit}
	q.After, q.Before, q.Last = pp.window()
	tags, err := s.Regional.Tags(c.R.Context(), q)
	if err != nil {
		return nil, err
	}
	items := make([]mgapi.Tag, len(tags))
	for i, t := range tags {
		items[i] = tagJSON(t)
	}
	var first, last string
	if len(tags) > 0 {
		first, last = tags[0].Name, tags[len(tags)-1].Name
	}
	path := "/v3/" + url.PathEscape(c.Domain.Name) + "/tags"
	return mgapi.ListPage{Items: items, Paging: s.links(path, pp, "prefix", "p", first, last)}, nil
}

func (s *Server) getTag(c *Ctx) (any, error) {
	c.P.Accept("tag")
	t, err := s.mustTag(c)
	if err != nil {
		return nil, err
	}
	return tagJSON(t), nil
}

func (s *Server) updateTag(c *Ctx) (any, error) {
	c.P.Accept("tag", "description")
	t, err := s.mustTag(c)
	if err != nil {
		return nil, err
	}
	if err := s.Regional.UpdateTag(c.R.Context(), t.Domain, t.Name, c.P.Raw("description")); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "Tag updated"}, nil
}

func (s *Server) deleteTag(c *Ctx) (any, error) {
	c.P.Accept("tag")
	t, err := s.mustTag(c)
	if err != nil {
		return nil, err
	}
	if err := s.Regional.DeleteTag(c.R.Context(), t.Domain, t.Name); err != nil {
		return nil, err
	}
	return mgapi.Message{Message: "Tag deleted"}, nil
}

func (s *Server) tagLimits(c *Ctx) (any, error) {
	c.P.Accept()
	n, err := s.Regional.CountTags(c.R.Context(), c.Domain.Name)
	if err != nil {
		return nil, err
	}
	return mgapi.TagLimits{ID: c.Domain.ID, Limit: tagLimit, Count: n}, nil
}

// statsParams are the parameters of every stats endpoint.
var statsParams = []string{"event", "start", "end", "resolution", "duration"}

// statsOf answers a stats request for domains (and tags, nil for the
// domains' totals).
func (s *Server) statsOf(c *Ctx, domains, tags []string) (mgapi.Stats, error) {
	events, err := stats.ParseEvents(c.P.All("event"))
	if err != nil {
		return mgapi.Stats{}, err
	}
	r, err := stats.ParseRange(c.P.Get("start"), c.P.Get("end"), c.P.Get("duration"), c.P.Get("resolution"), s.Now())
	if err != nil {
		return mgapi.Stats{}, err
	}
	return stats.Total(c.R.Context(), s.Regional, r, domains, tags, events)
}

func (s *Server) domainStats(c *Ctx) (any, error) {
	c.P.Accept(statsParams...)
	return s.statsOf(c, []string{c.Domain.Name}, nil)
}

// regionDomains names the domains of this region that the request's
// account owns; with subaccounts (include_subaccounts, the parent only)
// its subaccounts' domains too. accounts maps each to its account's id.
func (s *Server) regionDomains(c *Ctx, subaccounts bool) (names []string, accounts map[string]string, err error) {
	var ds []store.Domain
	if subaccounts && c.Tenant.Primary() {
		ds, _, err = s.Regional.Domains(c.R.Context(), 0, 1<<20)
	} else {
		ds, _, err = s.Regional.AccountDomains(c.R.Context(), c.Tenant.Owner(), 0, 1<<20)
	}
	if err != nil {
		return nil, nil, err
	}
	primary, err := s.Auth.PrimaryAccountID(c.R.Context())
	if err != nil {
		return nil, nil, err
	}
	names, accounts = make([]string, len(ds)), make(map[string]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
		accounts[d.Name] = d.AccountID
		if d.AccountID == "" {
			accounts[d.Name] = primary
		}
	}
	return names, accounts, nil
}

func (s *Server) accountStats(c *Ctx) (any, error) {
	c.P.Accept(append(statsParams, "include_subaccounts")...)
	subs, err := c.P.Bool("include_subaccounts", false)
	if err != nil {
		return nil, err
	}
	names, _, err := s.regionDomains(c, subs)
	if err != nil {
		return nil, err
	}
	return s.statsOf(c, names, nil)
}

func (s *Server) tagStats(c *Ctx) (any, error) {
	c.P.Accept(append(statsParams, "tag")...)
	t, err := s.mustTag(c)
	if err != nil {
		return nil, err
	}
	out, err := s.statsOf(c, []string{t.Domain}, []string{t.Name})
	out.Tag, out.Description = t.Name, t.Description
	return out, err
}

// metricsQuery is POST /v1/analytics/metrics over this region's domains.
func (s *Server) metricsQuery(c *Ctx) (any, error) {
	var req mgapi.MetricsRequest
	if len(c.P.JSON) > 0 {
		if err := json.Unmarshal(c.P.JSON, &req); err != nil {
			return nil, fault.Invalidf("request body is not a metrics query: %v", err)
		}
	} else if len(c.P.Names()) > 0 {
		return nil, fault.Invalidf("send the metrics query as a JSON body (Content-Type: application/json)")
	}
	names, accounts, err := s.regionDomains(c, req.Subaccts)
	if err != nil {
		return nil, err
	}
	return stats.MetricsOf(c.R.Context(), s.Regional, req, names, accounts, s.Now())
}
