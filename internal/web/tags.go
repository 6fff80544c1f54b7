package web

import (
	"errors"
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/stats"
	"github.com/salvo-email/salvo/internal/store"
)

// Sending → Tags: a domain's tags by name with when each was first and
// last used and its counts of the last 30 days (from the same counters as
// GET /v3/{domain}/tags/{tag}/stats), deleted like DELETE
// /v3/{domain}/tags/{tag} (its counters go with it), each linked to the
// Stats page filtered to it.

const tagsPath = prefix + "/tags"

// tagsPageSize is how many tags a page lists.
const tagsPageSize = 100

// tagDays is the span of the counts the list shows.
const tagDays = 30

func (s *Server) tagsRoutes() {
	s.page("GET "+tagsPath, s.tagsPage)
	s.form("POST "+tagsPath+"/delete", s.deleteTag)
}

type tagRow struct {
	store.Tag
	Counts   statsDay
	StatsURL string
}

type tagsData struct {
	Domain  string
	Domains []store.Domain
	Prefix  string
	Tags    []tagRow
	Total   int
	Days    int
	// Next links to the page after this one ("" on the last).
	Next string
}

func (s *Server) tagsPage(rq *request) error {
	q := rq.r.URL.Query()
	d := tagsData{Domain: strings.TrimSpace(q.Get("domain")), Prefix: strings.ToLower(strings.TrimSpace(q.Get("prefix"))), Days: tagDays}
	var err error
	if d.Domains, err = s.domainChoices(rq, &d.Domain); err != nil || d.Domain == "" {
		if err != nil {
			return err
		}
		return s.show(rq, "tags", "Tags", "tags", d)
	}
	ctx := rq.r.Context()
	tags, err := s.Regional.Tags(ctx, store.TagQuery{Domain: d.Domain, Prefix: d.Prefix, After: q.Get("after"), Limit: tagsPageSize + 1})
	if err != nil {
		return err
	}
	if d.Total, err = s.Regional.CountTags(ctx, d.Domain); err != nil {
		return err
	}
	if len(tags) > tagsPageSize {
		tags = tags[:tagsPageSize]
		v := url.Values{"domain": {d.Domain}, "after": {tags[len(tags)-1].Name}}
		if d.Prefix != "" {
			v.Set("prefix", d.Prefix)
		}
		d.Next = tagsPath + "?" + v.Encode()
	}
	counts, err := s.tagCounts(rq, d.Domain, tags)
	if err != nil {
		return err
	}
	for _, t := range tags {
		d.Tags = append(d.Tags, tagRow{Tag: t, Counts: counts[t.Name],
			StatsURL: statsPath + "?" + url.Values{"domain": {d.Domain}, "tag": {t.Name}}.Encode()})
	}
	return s.show(rq, "tags", "Tags", "tags", d)
}

// tagCounts adds up each tag's counters of the last tagDays days (UTC) in
// one read.
func (s *Server) tagCounts(rq *request, domain string, tags []store.Tag) (map[string]statsDay, error) {
	out := map[string]statsDay{}
	if len(tags) == 0 {
		return out, nil
	}
	end := store.BucketStart(s.Now(), store.Daily)
	r := stats.Range{Start: end.AddDate(0, 0, 1-tagDays), End: end, Resolution: stats.Day}
	q := r.Query()
	q.Domains = []string{domain}
	for _, t := range tags {
		q.Tags = append(q.Tags, t.Name)
	}
	series, err := stats.Series(rq.r.Context(), s.Regional, r, q, func(c store.StatCount) string { return c.Tag })
	if err != nil {
		return nil, err
	}
	events := make([]string, len(statsEvents))
	for i, e := range statsEvents {
		events[i] = e.Name
	}
	for tag, buckets := range series {
		var sum statsDay
		for _, e := range stats.Answer(r, buckets, events).Stats {
			sum.add(statsDayOf(r.Start, e))
		}
		out[tag] = sum
	}
	return out, nil
}

func (s *Server) deleteTag(rq *request) (result, error) {
	domain, tag := rq.r.PostFormValue("domain"), strings.ToLower(rq.r.PostFormValue("tag"))
	if _, err := s.Domains.Get(rq.r.Context(), domain); err != nil {
		return result{}, err
	}
	res := result{To: tagsPath + "?" + url.Values{"domain": {domain}}.Encode()}
	if err := s.Regional.DeleteTag(rq.r.Context(), domain, tag); errors.Is(err, store.ErrNotFound) {
		return res, fault.NotFoundf("There is no tag %s.", tag)
	} else if err != nil {
		return res, err
	}
	s.Log.Info("tag deleted", "domain", domain, "tag", tag, "user_id", rq.ses.User.ID)
	res.Flash.Notice = "Tag " + tag + " and its counters were deleted."
	return res, nil
}
