package api

import (
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
)

// listsRoutes registers mailing lists and members (docs/mailgun-contract.md §5).
func (s *Server) listsRoutes() {
	const l = "/v3/lists/{address}"
	s.handle("GET", "/v3/lists/pages", auth.Account, s.listListsPages)
	s.handle("GET", "/v3/lists", auth.Account, s.listListsOffset)
	s.handle("POST", "/v3/lists", auth.Account, s.createList)
	own := s.ownedList
	s.handle("GET", l, auth.Account, own(s.getList))
	s.handle("PUT", l, auth.Account, own(s.updateList))
	s.handle("DELETE", l, auth.Account, own(s.deleteList))
	s.handle("GET", l+"/members/pages", auth.Account, own(s.listMembersPages))
	s.handle("GET", l+"/members", auth.Account, own(s.listMembersOffset))
	s.handle("POST", l+"/members", auth.Account, own(s.createMember))
	s.handle("GET", l+"/members/{member}", auth.Account, own(s.getMember))
	s.handle("PUT", l+"/members/{member}", auth.Account, own(s.updateMember))
	s.handle("DELETE", l+"/members/{member}", auth.Account, own(s.deleteMember))
	s.handle("POST", l+"/members.json", auth.Account, own(s.bulkMembersJSON))
	s.handle("POST", l+"/members.csv", auth.Account, own(s.bulkMembersCSV))
	// Beyond Mailgun: the progress of a background upload (task-id).
	s.handle("GET", l+"/tasks/{id}", auth.Account, own(s.listTask))
}

// ownedList runs h only when the list {address} belongs to the request's
// account: another account's list is not found, as if it did not exist.
func (s *Server) ownedList(h handlerFunc) handlerFunc {
	return func(c *Ctx) (any, error) {
		l, err := s.Lists.Get(c.R.Context(), c.Var("address"))
		if err != nil {
			return nil, err
		}
		if !c.Tenant.Owns(l.AccountID) {
			return nil, lists.ListNotFound(l.Address)
		}
		return h(c)
	}
}

func listJSON(l store.MailingList) mgapi.MailingList {
	return mgapi.MailingList{Address: l.Address, Name: l.Name, Description: l.Description, AccessLevel: l.AccessLevel,
		ReplyPreference: l.ReplyPreference, CreatedAt: mgapi.Time(l.CreatedAt), MembersCount: l.MembersCount}
}

func memberJSON(m store.Member) mgapi.Member {
	vars := m.Vars
	if vars == nil {
		vars = map[string]any{}
	}
	return mgapi.Member{Address: m.Address, Name: m.Name, Vars: vars, Subscribed: m.Subscribed}
}

// optional returns a pointer to name's raw value, nil when absent.
func optional(p *mgapi.Params, name string) *string {
	if !p.Has(name) {
		return nil
	}
	v := p.Raw(name)
	return &v
}

func listInput(p *mgapi.Params) lists.ListInput {
	return lists.ListInput{Address: optional(p, "address"), Name: optional(p, "name"),
		Description: optional(p, "description"), AccessLevel: optional(p, "access_level"),
		ReplyPreference: optional(p, "reply_preference")}
}

var listFields = []string{"address", "name", "description", "access_level", "reply_preference"}

func (s *Server) createList(c *Ctx) (any, error) {
	c.P.Accept(listFields...)
	in := listInput(c.P)
	in.Owner = c.Tenant.Owner()
	l, err := s.Lists.Create(c.R.Context(), in)
	if err != nil {
		return nil, err
	}
	return mgapi.ListResponse{Message: "Mailing list has been created", List: listJSON(l)}, nil
}

func (s *Server) listListsPages(c *Ctx) (any, error) {
	c.P.Accept("limit", "page", "address")
	pg, err := newPivotPager(c.P, s.PublicURL+"/v3/lists/pages", "address", 100, 1000)
	if err != nil {
		return nil, err
	}
	ls, err := s.Lists.AccountPage(c.R.Context(), c.Tenant.Owner(), pg.q)
	if err != nil {
		return nil, err
	}
	out := mgapi.MailingListPage{Items: []mgapi.MailingList{}}
	keys := make([]string, 0, len(ls))
	for _, l := range ls {
		out.Items = append(out.Items, listJSON(l))
		keys = append(keys, l.Address)
	}
	out.Paging = pg.paging(keys)
	return out, nil
}

func (s *Server) listListsOffset(c *Ctx) (any, error) {
	c.P.Accept("limit", "skip", "address")
	skip, limit, err := skipLimit(c.P, 100, 1000, "")
	if err != nil {
		return nil, err
	}
	out := mgapi.ListOffsetPage{Items: []mgapi.MailingList{}}
	if a := c.P.Get("address"); a != "" {
		l, err := s.Lists.Get(c.R.Context(), a)
		if err != nil {
			return nil, err
		}
		if !c.Tenant.Owns(l.AccountID) {
			return nil, lists.ListNotFound(l.Address)
		}
		out.TotalCount, out.Items = 1, append(out.Items, listJSON(l))
		return out, nil
	}
	ls, total, err := s.Lists.AccountOffset(c.R.Context(), c.Tenant.Owner(), skip, limit)
	if err != nil {
		return nil, err
	}
	out.TotalCount = total
	for _, l := range ls {
		out.Items = append(out.Items, listJSON(l))
	}
	return out, nil
}

func (s *Server) getList(c *Ctx) (any, error) {
	c.P.Accept()
	l, err := s.Lists.Get(c.R.Context(), c.Var("address"))
	if err != nil {
		return nil, err
	}
	return mgapi.ListResponse{List: listJSON(l)}, nil
}

func (s *Server) updateList(c *Ctx) (any, error) {
	c.P.Accept(listFields...)
	l, err := s.Lists.Update(c.R.Context(), c.Var("address"), listInput(c.P))
	if err != nil {
		return nil, err
	}
	return mgapi.ListResponse{Message: "Mailing list has been updated", List: listJSON(l)}, nil
}

func (s *Server) deleteList(c *Ctx) (any, error) {
	c.P.Accept()
	addr, err := s.Lists.Delete(c.R.Context(), c.Var("address"))
	if err != nil {
		return nil, err
	}
	return mgapi.ListDeleted{Address: addr, Message: "Mailing list has been removed"}, nil
}

// memberFilter reads subscribed=yes|no.
func memberFilter(p *mgapi.Params) (store.MemberFilter, error) {
	var f store.MemberFilter
	if p.Get("subscribed") != "" {
		v, err := p.Bool("subscribed", false)
		if err != nil {
			return f, err
		}
		f.Subscribed = &v
	}
	return f, nil
}

func (s *Server) listMembersPages(c *Ctx) (any, error) {
	c.P.Accept("limit", "page", "address", "subscribed")
	f, err := memberFilter(c.P)
	if err != nil {
		return nil, err
	}
	path := s.PublicURL + "/v3/lists/" + url.PathEscape(c.Var("address")) + "/members/pages"
	pg, err := newPivotPager(c.P, path, "address", 100, 1000, "subscribed")
	if err != nil {
		return nil, err
	}
	ms, err := s.Lists.MembersPage(c.R.Context(), c.Var("address"), f, pg.q)
	if err != nil {
		return nil, err
	}
	out := mgapi.MemberPage{Items: []mgapi.Member{}}
	keys := make([]string, 0, len(ms))
	for _, m := range ms {
		out.Items = append(out.Items, memberJSON(m))
		keys = append(keys, m.Address)
	}
	out.Paging = pg.paging(keys)
	return out, nil
}

func (s *Server) listMembersOffset(c *Ctx) (any, error) {
	c.P.Accept("limit", "skip", "address", "subscribed")
	f, err := memberFilter(c.P)
	if err != nil {
		return nil, err
	}
	skip, limit, err := skipLimit(c.P, 100, 100, "")
	if err != nil {
		return nil, err
	}
	out := mgapi.MemberOffsetPage{Items: []mgapi.Member{}}
	if a := c.P.Get("address"); a != "" {
		m, err := s.Lists.Member(c.R.Context(), c.Var("address"), a)
		if err != nil {
			return nil, err
		}
		out.TotalCount, out.Items = 1, append(out.Items, memberJSON(m))
		return out, nil
	}
	ms, total, err := s.Lists.MembersOffset(c.R.Context(), c.Var("address"), f, skip, limit)
	if err != nil {
		return nil, err
	}
	out.TotalCount = total
	for _, m := range ms {
		out.Items = append(out.Items, memberJSON(m))
	}
	return out, nil
}

// memberInput reads a member's fields; subscribed arrives as yes/no or
// true/false.
func memberInput(p *mgapi.Params) (lists.MemberInput, error) {
	in := lists.MemberInput{Address: optional(p, "address"), Name: optional(p, "name"), Vars: optional(p, "vars")}
	if p.Get("subscribed") != "" {
		v, err := p.Bool("subscribed", true)
		if err != nil {
			return in, err
		}
		in.Subscribed = &v
	}
	return in, nil
}

func (s *Server) createMember(c *Ctx) (any, error) {
	c.P.Accept("address", "name", "vars", "subscribed", "upsert")
	in, err := memberInput(c.P)
	if err != nil {
		return nil, err
	}
	upsert, err := c.P.Bool("upsert", false)
	if err != nil {
		return nil, err
	}
	m, err := s.Lists.AddMember(c.R.Context(), c.Var("address"), in, upsert)
	if err != nil {
		return nil, err
	}
	return mgapi.MemberResponse{Member: memberJSON(m), Message: "Mailing list member has been created"}, nil
}

func (s *Server) getMember(c *Ctx) (any, error) {
	c.P.Accept()
	m, err := s.Lists.Member(c.R.Context(), c.Var("address"), c.Var("member"))
	if err != nil {
		return nil, err
	}
	return mgapi.MemberResponse{Member: memberJSON(m)}, nil
}

func (s *Server) updateMember(c *Ctx) (any, error) {
	c.P.Accept("address", "name", "vars", "subscribed")
	in, err := memberInput(c.P)
	if err != nil {
		return nil, err
	}
	m, err := s.Lists.UpdateMember(c.R.Context(), c.Var("address"), c.Var("member"), in)
	if err != nil {
		return nil, err
	}
	return mgapi.MemberResponse{Member: memberJSON(m), Message: "Mailing list member has been updated"}, nil
}

func (s *Server) deleteMember(c *Ctx) (any, error) {
	c.P.Accept()
	addr, err := s.Lists.DeleteMember(c.R.Context(), c.Var("address"), c.Var("member"))
	if err != nil {
		return nil, err
	}
	out := mgapi.MemberDeleted{Message: "Mailing list member has been deleted"}
	out.Member.Address = addr
	return out, nil
}

func (s *Server) bulkMembersJSON(c *Ctx) (any, error) {
	c.P.Accept("members", "upsert")
	raw, err := c.P.Required("members")
	if err != nil {
		return nil, err
	}
	upsert, err := c.P.Bool("upsert", false)
	if err != nil {
		return nil, err
	}
	ms, err := lists.ParseJSONMembers(raw)
	if err != nil {
		return nil, err
	}
	return s.bulkResult(c, ms, upsert)
}

func (s *Server) bulkMembersCSV(c *Ctx) (any, error) {
	c.P.Accept("members", "upsert", "subscribed")
	files := c.P.Files("members")
	if len(files) == 0 {
		return nil, fault.Invalidf("'members' parameter must be a CSV file")
	}
	if files[0].Size > lists.MaxCSVBytes {
		return nil, fault.Invalidf("CSV file is too big, max allowed size is 5 MB")
	}
	upsert, err := c.P.Bool("upsert", false)
	if err != nil {
		return nil, err
	}
	subscribed, err := c.P.Bool("subscribed", true)
	if err != nil {
		return nil, err
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ms, err := lists.ParseCSVMembers(f, subscribed)
	if err != nil {
		return nil, err
	}
	return s.bulkResult(c, ms, upsert)
}

func (s *Server) bulkResult(c *Ctx, ms []store.Member, upsert bool) (any, error) {
	up, err := s.Lists.AddMembers(c.R.Context(), c.Var("address"), ms, upsert)
	if err != nil {
		return nil, err
	}
	if up.TaskID != "" {
		return mgapi.ListResponse{Message: "Mailing list upload started in background", List: listJSON(up.List), TaskID: up.TaskID}, nil
	}
	return mgapi.ListResponse{Message: "Mailing list has been updated", List: listJSON(up.List)}, nil
}

func (s *Server) listTask(c *Ctx) (any, error) {
	c.P.Accept()
	t, ok := s.Lists.Task(c.Var("id"))
	if !ok || !strings.EqualFold(t.List, strings.TrimSpace(c.Var("address"))) {
		return nil, fault.NotFoundf("task %s not found", c.Var("id"))
	}
	return t, nil
}
