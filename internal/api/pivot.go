package api

import (
	"net/url"
	"strconv"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// pivotPager reads and writes Mailgun's pivot paging (docs/mailgun-contract.md §17.4):
// page=first|next|previous|last with the pivot in a parameter whose name
// varies by endpoint (p for templates, address for lists and members).
// Links are absolute and always present, next included, so SDK iterators
// that follow next until a page is empty end cleanly.
type pivotPager struct {
	path  string     // absolute URL without query
	param string     // pivot parameter name
	keep  url.Values // other parameters links repeat (filters)
	limit int
	q     store.PivotQuery
}

// newPivotPager reads limit (default def, at most max), page and the pivot.
func newPivotPager(p *mgapi.Params, path, param string, def, max int, keep ...string) (*pivotPager, error) {
	limit, err := p.Int("limit", def, 1, max)
	if err != nil {
		return nil, err
	}
	pg := &pivotPager{path: path, param: param, keep: url.Values{}, limit: limit}
	for _, k := range keep {
		if v := p.Get(k); v != "" {
			pg.keep.Set(k, v)
		}
	}
	pivot := p.Get(param)
	switch page := p.Get("page"); page {
	case "", "first":
	case "last":
		pg.q.Backward = true
	case "next":
		pg.q.Pivot = pivot
	case "previous", "prev":
		pg.q.Pivot, pg.q.Backward = pivot, true
	default:
		return nil, fault.Invalidf("'page' parameter must be first, next, previous or last, not %q", page)
	}
	pg.q.Limit = limit
	return pg, nil
}

// paging returns the links for a page whose items have keys (ascending).
func (pg *pivotPager) paging(keys []string) mgapi.Paging {
	link := func(page, pivot string, withPivot bool) string {
		v := url.Values{}
		for k, vs := range pg.keep {
			v[k] = vs
		}
		v.Set("page", page)
		v.Set("limit", strconv.Itoa(pg.limit))
		if withPivot {
			v.Set(pg.param, pivot)
		}
		return pg.path + "?" + v.Encode()
	}
	next, prev := pg.q.Pivot, pg.q.Pivot
	if len(keys) > 0 {
		prev, next = keys[0], keys[len(keys)-1]
	}
	return mgapi.Paging{
		First: link("first", "", false), Last: link("last", "", false),
		Next: link("next", next, true), Previous: link("previous", prev, true),
	}
}
