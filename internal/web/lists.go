package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/lists"
	"github.com/salvo-email/salvo/internal/store"
)

// Sending → Mailing lists: the region's lists, created, edited and
// deleted, and each list's members: paged, found by address, added,
// edited (name, vars, subscribed), removed, and uploaded from a CSV file
// with its progress followed. Every change goes through lists.Service,
// the same checks as /v3/lists (an address that parses, a known access
// level and reply preference, vars that are a JSON object).

const listsPath = prefix + "/lists"

// membersPerPage is the length of a page of members; listsPerPage of
// lists.
const (
	membersPerPage = 50
	listsPerPage   = 100
)

func mlistPath(address string) string { return listsPath + "/" + url.PathEscape(address) }

func (s *Server) listsRoutes() {
	s.page("GET "+listsPath, s.listsPage)
	s.form("POST "+listsPath, s.createList)
	base := listsPath + "/{list}"
	s.page("GET "+base, s.listPage)
	s.form("POST "+base, s.updateList)
	s.form("POST "+base+"/members", s.addMember)
	s.upload("POST "+base+"/upload", maxUpload, s.uploadMembers)
	s.page("GET "+base+"/uploads/{id}", s.uploadPage)
	s.page("GET "+base+"/members/{member}", s.memberPage)
	s.form("POST "+base+"/members/{member}", s.updateMember)
	s.form("POST "+base+"/members/{member}/delete", s.deleteMember)
	s.form("POST "+base+"/delete", s.deleteList)
}

type listsData struct {
	Lists []store.MailingList
	Total int
	Skip  int
	Prev  string
	Next  string
}

// pager links a skip/limit listing's previous and next pages.
func pager(base string, q url.Values, skip, limit, total int) (prev, next string) {
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("skip", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	if skip > 0 {
		prev = link(max(0, skip-limit))
	}
	if skip+limit < total {
		next = link(skip + limit)
	}
	return prev, next
}

// skipOf reads ?skip=, 0 when absent or bad.
func skipOf(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("skip"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (s *Server) listsPage(rq *request) error {
	d := listsData{Skip: skipOf(rq.r)}
	var err error
	if d.Lists, d.Total, err = s.Lists.AccountOffset(rq.r.Context(), rq.tenant.Owner(), d.Skip, listsPerPage); err != nil {
		return err
	}
	d.Prev, d.Next = pager(listsPath, url.Values{}, d.Skip, listsPerPage, d.Total)
	return s.show(rq, "lists", "Mailing lists", "lists", d)
}

// listInput reads the list form's fields.
func listInput(rq *request) lists.ListInput {
	f := rq.r.PostForm
	field := func(name string) *string {
		if !f.Has(name) {
			return nil
		}
		v := strings.TrimSpace(f.Get(name))
		return &v
	}
	return lists.ListInput{Address: field("address"), Name: field("name"), Description: field("description"),
		AccessLevel: field("access_level"), ReplyPreference: field("reply_preference")}
}

func (s *Server) createList(rq *request) (result, error) {
	res := result{To: listsPath}
	in := listInput(rq)
	in.Owner = rq.tenant.Owner()
	l, err := s.Lists.Create(rq.r.Context(), in)
	if err != nil {
		return res, err
	}
	s.Log.Info("mailing list created", "list", l.Address, "user_id", rq.ses.User.ID)
	return result{To: mlistPath(l.Address), Flash: flash{Notice: "Mailing list " + l.Address + " was created."}}, nil
}

// listData is one list's page.
type listData struct {
	List    store.MailingList
	Members []store.Member
	// Find is the address looked up ("" when the page lists a page).
	Find       string
	Subscribed string // "", "yes" or "no": the filter
	Total      int
	Skip       int
	Prev, Next string
}

func (s *Server) listPage(rq *request) error {
	ctx := rq.r.Context()
	l, err := s.Lists.Get(ctx, rq.r.PathValue("list"))
	if err != nil {
		return err
	}
	q := rq.r.URL.Query()
	d := listData{List: l, Find: strings.TrimSpace(q.Get("find")), Subscribed: q.Get("subscribed"), Skip: skipOf(rq.r)}
	if d.Find != "" {
		m, err := s.Lists.Member(ctx, l.Address, d.Find)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err == nil {
			d.Members, d.Total = []store.Member{m}, 1
		}
		return s.show(rq, "list", l.Address, "lists", d)
	}
	var f store.MemberFilter
	switch d.Subscribed {
	case "yes", "no":
		b := d.Subscribed == "yes"
		f.Subscribed = &b
	default:
		d.Subscribed = ""
	}
	if d.Members, d.Total, err = s.Lists.MembersOffset(ctx, l.Address, f, d.Skip, membersPerPage); err != nil {
		return err
	}
	v := url.Values{}
	if d.Subscribed != "" {
		v.Set("subscribed", d.Subscribed)
	}
	d.Prev, d.Next = pager(mlistPath(l.Address), v, d.Skip, membersPerPage, d.Total)
	return s.show(rq, "list", l.Address, "lists", d)
}

// isNotFound reports a thing that is not there, as a fault or
// store.ErrNotFound.
func isNotFound(err error) bool {
	if f, ok := fault.As(err); ok {
		return f.Kind == fault.NotFound
	}
	return errors.Is(err, store.ErrNotFound)
}

func (s *Server) updateList(rq *request) (result, error) {
	old := rq.r.PathValue("list")
	res := result{To: mlistPath(old)}
	l, err := s.Lists.Update(rq.r.Context(), old, listInput(rq))
	if err != nil {
		return res, err
	}
	s.Log.Info("mailing list updated", "list", l.Address, "was", old, "user_id", rq.ses.User.ID)
	return result{To: mlistPath(l.Address), Flash: flash{Notice: "Mailing list " + l.Address + " was saved."}}, nil
}

func (s *Server) deleteList(rq *request) (result, error) {
	addr := rq.r.PathValue("list")
	res := result{To: mlistPath(addr)}
	if rq.r.PostFormValue("confirm") != addr {
		return res, fault.Invalidf("Type the list's address, %s, to delete it.", addr)
	}
	if _, err := s.Lists.Delete(rq.r.Context(), addr); err != nil {
		return res, err
	}
	s.Log.Info("mailing list deleted", "list", addr, "user_id", rq.ses.User.ID)
	return result{To: listsPath, Flash: flash{Notice: "Mailing list " + addr + " and its members were deleted."}}, nil
}
