package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
)

// listTexts are one suppression list's Mailgun texts and form fields
// (docs/mailgun-contract.md §4.2–4.5).
type listTexts struct {
	fields                     []string
	added, bulkAdded           string // bulkAdded takes the count
	notFound, removed, cleared string
	itemJSON                   func(store.Suppression) any
	bulkRefused                string
}

const maxCSVBytes = 25 << 20

var suppressionLists = map[string]listTexts{
	store.Bounces: {
		fields: []string{"address", "code", "error", "created_at"},
		added:  "Address has been added to the bounces table", bulkAdded: "%d addresses have been added to the bounces table",
		notFound: "Address not found in bounces table", removed: "Bounced address has been removed",
		cleared: "Bounced addresses for this domain have been removed",
		itemJSON: func(s store.Suppression) any {
			return mgapi.Bounce{Address: s.Address, Code: s.Code, Error: s.Error, CreatedAt: mgapi.Time(s.CreatedAt)}
		},
	},
	store.Unsubscribes: {
		fields: []string{"address", "tag", "tags", "created_at"},
		added:  "Address has been added to the unsubscribes table", bulkAdded: "%d addresses have been added to the unsubscribes table",
		notFound: "Address not found in unsubscribers table", removed: "Unsubscribe event has been removed",
		cleared: "Unsubscribe addresses for this domain have been removed",
		itemJSON: func(s store.Suppression) any {
			return mgapi.Unsubscribe{Address: s.Address, Tags: s.Tags, CreatedAt: mgapi.Time(s.CreatedAt)}
		},
	},
	store.Complaints: {
		fields: []string{"address", "created_at"},
		added:  "Address has been added to the complaints table", bulkAdded: "%d complaint addresses have been added to the complaints table",
		notFound: "No spam complaints found for this address", removed: "Spam complaint has been removed",
		cleared: "Complaint addresses for this domain have been removed",
		itemJSON: func(s store.Suppression) any {
			return mgapi.Complaint{Address: s.Address, Count: s.Count, CreatedAt: mgapi.Time(s.CreatedAt)}
		},
	},
	store.Allowlist: {
		fields: []string{"address", "domain", "reason"},
		added:  "Address/Domain has been added to the allowlists table", notFound: "Address/Domain not found in allowlist table",
		removed: "Allowlist address/domain has been removed", cleared: "Allowlist addresses/domains for this domain have been removed",
		bulkRefused: "the allowlist takes one address or domain per request, not a JSON array",
		itemJSON: func(s store.Suppression) any {
			return mgapi.AllowEntry{Value: s.Address, Reason: s.Reason, Type: s.Type, CreatedAt: mgapi.Time(s.CreatedAt)}
		},
	},
}

// suppressRoutes registers the suppression lists of docs/mailgun-contract.md §4, and
// the CSV import status beyond Mailgun (GET …/{list}/import[/{id}]).
func (s *Server) suppressRoutes() {
	for _, list := range suppress.Lists {
		t, base := suppressionLists[list], "/v3/{domain}/"+list
		s.handle(http.MethodGet, base, auth.Account, s.listSuppressions(list, t))
		s.handle(http.MethodPost, base, auth.Account, s.addSuppressions(list, t))
		s.handle(http.MethodDelete, base, auth.Account, s.clearSuppressions(list, t))
		s.handle(http.MethodPost, base+"/import", auth.Account, s.importSuppressions(list))
		s.handle(http.MethodGet, base+"/import", auth.Account, s.listImports(list))
		s.handle(http.MethodGet, base+"/import/{id}", auth.Account, s.getImport(list))
		s.handle(http.MethodGet, base+"/{address}", auth.Account, s.getSuppression(list, t))
		s.handle(http.MethodDelete, base+"/{address}", auth.Account, s.deleteSuppression(list, t))
	}
}

// pageParams are the page/pivot parameters of docs/mailgun-contract.md §4.1 and docs/mailgun-contract.md §10.1: page is
// first, next, previous (prev) or last; the pivot comes in pivotNames.
type pageParams struct {
	limit       int
	page, pivot string
	term        string
}

func readPage(p *mgapi.Params, termName string, pivotNames ...string) (pageParams, error) {
	var pp pageParams
	var err error
	if pp.limit, err = p.Int("limit", 100, 1, 1000); err != nil {
		return pp, err
	}
	pp.page, pp.term = p.Get("page"), p.Get(termName)
	switch pp.page {
	case "", "first", "next", "previous", "prev", "last":
	default:
		return pp, fault.Invalidf("'page' parameter must be first, next, previous or last")
	}
	for _, n := range pivotNames {
		if v := p.Raw(n); v != "" {
			pp.pivot = v
		}
	}
	return pp, nil
}

// window returns the pivots of the page asked for.
func (pp pageParams) window() (after, before string, last bool) {
	switch pp.page {
	case "next":
		return pp.pivot, "", false
	case "previous", "prev":
		return "", pp.pivot, false
	case "last":
		return "", "", true
	}
	return "", "", false
}

// links are the absolute paging links of a page whose first and last keys
// are firstKey and lastKey ("" when empty: the pivot stays).
func (s *Server) links(path string, pp pageParams, termName, pivotName, firstKey, lastKey string) mgapi.Paging {
	link := func(page, pivot string) string {
		v := url.Values{"page": {page}, "limit": {strconv.Itoa(pp.limit)}}
		if pp.term != "" {
			v.Set(termName, pp.term)
		}
		if page == "next" || page == "previous" {
			v.Set(pivotName, pivot)
		}
		return s.PublicURL + path + "?" + v.Encode()
	}
	if firstKey == "" {
		firstKey, lastKey = pp.pivot, pp.pivot
	}
	return mgapi.Paging{First: link("first", ""), Last: link("last", ""), Next: link("next", lastKey),
		Previous: link("previous", firstKey)}
}

func (s *Server) listSuppressions(list string, t listTexts) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept("limit", "page", "address", "p", "term")
		pp, err := readPage(c.P, "term", "address", "p")
		if err != nil {
			return nil, err
		}
		q := store.SuppressionQuery{Domain: c.Domain.Name, List: list, Term: suppress.Address(pp.term), Limit: pp.limit}
		q.After, q.Before, q.Last = pp.window()
		recs, err := s.Regional.Suppressions(c.R.Context(), q)
		if err != nil {
			return nil, err
		}
		items := make([]any, len(recs))
		for i, r := range recs {
			items[i] = t.itemJSON(r)
		}
		var first, last string
		if len(recs) > 0 {
			first, last = recs[0].Address, recs[len(recs)-1].Address
		}
		path := "/v3/" + url.PathEscape(c.Domain.Name) + "/" + list
		return mgapi.ListPage{Items: items, Paging: s.links(path, pp, "term", "address", first, last)}, nil
	}
}

func (s *Server) getSuppression(list string, t listTexts) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept()
		r, err := s.Regional.Suppression(c.R.Context(), c.Domain.Name, list, suppress.Address(c.Var("address")))
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.NotFoundf("%s", t.notFound)
		}
		if err != nil {
			return nil, err
		}
		return t.itemJSON(r), nil
	}
}

func (s *Server) addSuppressions(list string, t listTexts) handlerFunc {
	return func(c *Ctx) (any, error) {
		now := s.Now()
		if body := c.P.JSON; len(body) > 0 && body[0] == '[' {
			if t.bulkRefused != "" {
				return nil, fault.Invalidf("%s", t.bulkRefused)
			}
			items, err := bulkInputs(body)
			if err != nil {
				return nil, err
			}
			recs, err := suppress.Bulk(c.Domain.Name, list, items, now)
			if err != nil {
				return nil, err
			}
			if err := s.Regional.PutSuppressions(c.R.Context(), recs); err != nil {
				return nil, err
			}
			return mgapi.Message{Message: fmt.Sprintf(t.bulkAdded, len(recs))}, nil
		}
		c.P.Accept(t.fields...)
		p := c.P
		in := suppress.Input{Address: p.Get("address"), Code: p.Get("code"), Error: p.Raw("error"), Tag: p.Get("tag"),
			Tags: p.All("tags"), CreatedAt: p.Get("created_at"), Domain: p.Get("domain"), Reason: p.Raw("reason")}
		rec, err := suppress.Record(c.Domain.Name, list, in, now)
		if err != nil {
			return nil, err
		}
		if err := s.Regional.PutSuppressions(c.R.Context(), []store.Suppression{rec}); err != nil {
			return nil, err
		}
		if list == store.Allowlist {
			return mgapi.ValueMessage{Message: t.added, Type: rec.Type, Value: rec.Address}, nil
		}
		return mgapi.AddressMessage{Message: t.added, Address: rec.Address}, nil
	}
}

func (s *Server) deleteSuppression(list string, t listTexts) handlerFunc {
	return func(c *Ctx) (any, error) {
		fields := []string{}
		if list == store.Unsubscribes {
			fields = append(fields, "tag")
		}
		c.P.Accept(fields...)
		ctx, addr := c.R.Context(), suppress.Address(c.Var("address"))
		var err error
		if tag := c.P.Get("tag"); tag != "" {
			if _, err = s.Regional.Suppression(ctx, c.Domain.Name, list, addr); err == nil {
				err = s.Regional.RemoveUnsubscribeTag(ctx, c.Domain.Name, addr, tag)
				if errors.Is(err, store.ErrNotFound) {
					return nil, fault.NotFoundf("Unsubscribe event for this tag does not exist")
				}
			}
		} else {
			err = s.Regional.DeleteSuppression(ctx, c.Domain.Name, list, addr)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fault.NotFoundf("%s", t.notFound)
		}
		if err != nil {
			return nil, err
		}
		if list == store.Allowlist {
			return mgapi.ValueMessage{Message: t.removed, Value: addr}, nil
		}
		return mgapi.AddressMessage{Message: t.removed, Address: addr}, nil
	}
}

func (s *Server) clearSuppressions(list string, t listTexts) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept()
		if err := s.Regional.ClearSuppressions(c.R.Context(), c.Domain.Name, list); err != nil {
			return nil, err
		}
		return mgapi.Message{Message: t.cleared}, nil
	}
}

// importSuppressions takes a CSV (multipart part "file") and answers 202
// as Mailgun does; the id and status_url lead to its progress.
func (s *Server) importSuppressions(list string) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept("file")
		files := c.P.Files("file")
		if len(files) == 0 {
			return nil, fault.Invalidf("Missing mandatory parameter: file (a CSV file part)")
		}
		if files[0].Size > maxCSVBytes {
			return nil, fault.TooLargef("the CSV file is larger than 25 MB")
		}
		f, err := files[0].Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		rec, err := s.Importer.Submit(c.R.Context(), c.Domain.Name, list, data)
		if err != nil {
			return nil, err
		}
		writeJSON(c.W, http.StatusAccepted, mgapi.ImportAccepted{
			Message:   "file uploaded successfully for processing. standby...",
			ID:        rec.ID,
			StatusURL: s.PublicURL + "/v3/" + url.PathEscape(c.Domain.Name) + "/" + list + "/import/" + rec.ID,
		})
		return nil, nil
	}
}

func (s *Server) getImport(list string) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept()
		rec, err := s.Regional.Import(c.R.Context(), c.Domain.Name, c.Var("id"))
		if errors.Is(err, store.ErrNotFound) || err == nil && rec.List != list {
			return nil, fault.NotFoundf("Import not found")
		}
		if err != nil {
			return nil, err
		}
		return suppress.StatusOf(rec), nil
	}
}

func (s *Server) listImports(list string) handlerFunc {
	return func(c *Ctx) (any, error) {
		c.P.Accept()
		recs, err := s.Regional.Imports(c.R.Context(), c.Domain.Name, 100)
		if err != nil {
			return nil, err
		}
		out := []suppress.Status{}
		for _, r := range recs {
			if r.List == list {
				out = append(out, suppress.StatusOf(r))
			}
		}
		return map[string]any{"items": out}, nil
	}
}

// bulkInput is one record of a JSON bulk add. mailgun.js types a bounce's
// code as a number ("code": 550) and clients send created_at as epoch
// numbers or tags as one string, so every field takes either spelling.
type bulkInput struct {
	Address   mgapi.FlexString  `json:"address"`
	Code      mgapi.FlexString  `json:"code"`
	Error     mgapi.FlexString  `json:"error"`
	Tag       mgapi.FlexString  `json:"tag"`
	Tags      mgapi.FlexStrings `json:"tags"`
	CreatedAt mgapi.FlexString  `json:"created_at"`
	Domain    mgapi.FlexString  `json:"domain"`
	Reason    mgapi.FlexString  `json:"reason"`
}

// bulkInputs decodes the JSON array body of a bulk add.
func bulkInputs(body []byte) ([]suppress.Input, error) {
	var raw []bulkInput
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fault.Invalidf("request body is not a JSON array of records: %v", err)
	}
	items := make([]suppress.Input, len(raw))
	for i, r := range raw {
		items[i] = suppress.Input{Address: string(r.Address), Code: string(r.Code), Error: string(r.Error),
			Tag: string(r.Tag), Tags: r.Tags, CreatedAt: string(r.CreatedAt), Domain: string(r.Domain), Reason: string(r.Reason)}
	}
	return items, nil
}
