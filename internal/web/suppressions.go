package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/suppress"
)

// The Suppressions section: a domain's four lists, each with paging,
// search by address prefix, add one, delete one, delete all after a
// confirmation, and CSV imports run by the same background importer as
// the API's (suppress.Importer). Records go through suppress.Record and the
// regional store exactly as the API writes them.

const suppressionsPath = prefix + "/suppressions"

// suppressionsPerPage is the length of a page of a list.
const suppressionsPerPage = 50

// maxCSV is the largest CSV file an import takes (as the API's), and
// maxUpload the largest body that carries it.
const (
	maxCSV    = 25 << 20
	maxUpload = maxCSV + 64<<10
)

// recentImports is how many imports a list page shows.
const recentImports = 5

// listInfo is one suppression list as the dashboard names it.
type listInfo struct {
	List  string // the store's (and the API's) name
	Slug  string // its dashboard URL segment
	Title string
	// Columns is the header of its CSV files.
	Columns string
}

var suppressionLists = []listInfo{
	{List: store.Bounces, Slug: "bounces", Title: "Bounces", Columns: "address,code,error,created_at"},
	{List: store.Unsubscribes, Slug: "unsubscribes", Title: "Unsubscribes", Columns: "address,tags,created_at"},
	{List: store.Complaints, Slug: "complaints", Title: "Complaints", Columns: "address,created_at"},
	{List: store.Allowlist, Slug: "allowlist", Title: "Allowlist", Columns: "address,domain,reason"},
}

// suppressRoutes registers the Suppressions section, each list's routes
// on their own so that route enumeration reaches every one.
func (s *Server) suppressRoutes() {
	s.page("GET "+suppressionsPath, s.suppressionsIndex)
	for _, l := range suppressionLists {
		base := suppressionsPath + "/{domain}/" + l.Slug
		s.page("GET "+base, s.withList(l, s.suppressionsPage))
		s.form("POST "+base, s.withListForm(l, s.addSuppression))
		s.form("POST "+base+"/delete", s.withListForm(l, s.deleteSuppression))
		s.page("GET "+base+"/clear", s.withList(l, s.clearPage))
		s.form("POST "+base+"/clear", s.withListForm(l, s.clearSuppressions))
		s.upload("POST "+base+"/import", maxUpload, s.withListForm(l, s.importSuppressions))
		s.page("GET "+base+"/imports/{id}", s.withList(l, s.importPage))
	}
}

// listRequest is a request to one list of one domain.
type listRequest struct {
	*request
	Domain string
	List   listInfo
}

func (lr listRequest) path() string { return listPath(lr.Domain, lr.List) }

func (lr listRequest) view() listView {
	return listView{Domain: lr.Domain, List: lr.List, Path: lr.path()}
}

func listPath(domain string, l listInfo) string {
	return suppressionsPath + "/" + url.PathEscape(domain) + "/" + l.Slug
}

// listRequest checks the request's domain.
func (s *Server) listRequest(rq *request, l listInfo) (listRequest, error) {
	d, err := s.Domains.Get(rq.r.Context(), rq.r.PathValue("domain"))
	return listRequest{request: rq, Domain: d.Name, List: l}, err
}

func (s *Server) withList(l listInfo, h func(listRequest) error) func(*request) error {
	return func(rq *request) error {
		lr, err := s.listRequest(rq, l)
		if err != nil {
			return err
		}
		return h(lr)
	}
}

func (s *Server) withListForm(l listInfo, h func(listRequest) (result, error)) func(*request) (result, error) {
	return func(rq *request) (result, error) {
		lr, err := s.listRequest(rq, l)
		if err != nil {
			return result{}, err
		}
		return h(lr)
	}
}

// suppressionsIndex goes to a domain's list: the one the domain menu
// asked for, or the first domain's bounces.
func (s *Server) suppressionsIndex(rq *request) error {
	q := rq.r.URL.Query()
	name := strings.TrimSpace(q.Get("domain"))
	doms, err := s.domainChoices(rq, &name)
	if err != nil {
		return err
	}
	if len(doms) == 0 {
		return s.show(rq, "suppressions_none", "Suppressions", "suppressions", nil)
	}
	l := suppressionLists[0]
	for _, c := range suppressionLists {
		if c.Slug == q.Get("list") {
			l = c
		}
	}
	http.Redirect(rq.w, rq.r, listPath(name, l), http.StatusSeeOther)
	return nil
}

// listView is what every page of a list shows: whose list it is.
type listView struct {
	Domain string
	List   listInfo
	Path   string // the list's page
}

// suppressionsData is a page of one list.
type suppressionsData struct {
	listView
	Domains []store.Domain
	Lists   []listInfo
	Term    string
	Rows    []store.Suppression
	Imports []store.Import
	// Links to the first, neighbour and last pages, "" for none.
	First, Prev, Next, Last string
}

func (s *Server) suppressionsPage(lr listRequest) error {
	ctx, v := lr.r.Context(), lr.r.URL.Query()
	d := suppressionsData{listView: lr.view(), Lists: suppressionLists, Term: strings.TrimSpace(v.Get("term"))}
	name := lr.Domain
	var err error
	if d.Domains, err = s.domainChoices(lr.request, &name); err != nil {
		return err
	}
	q := store.SuppressionQuery{Domain: lr.Domain, List: lr.List.List, Term: suppress.Address(d.Term),
		After: v.Get("after"), Before: v.Get("before"), Last: v.Get("last") != "", Limit: suppressionsPerPage + 1}
	if d.Rows, err = s.Regional.Suppressions(ctx, q); err != nil {
		return err
	}
	s.pageLinks(lr, q, &d)
	imps, err := s.Regional.Imports(ctx, lr.Domain, 100)
	if err != nil {
		return err
	}
	for _, im := range imps {
		if im.List == lr.List.List && len(d.Imports) < recentImports {
			d.Imports = append(d.Imports, im)
		}
	}
	return s.show(lr.request, "suppressions", lr.List.Title+" of "+lr.Domain, "suppressions", d)
}

// pageLinks trims the one record read beyond the page (it only tells that
// there is more in the direction read) and sets the paging links.
func (s *Server) pageLinks(lr listRequest, q store.SuppressionQuery, d *suppressionsData) {
	backwards := q.Before != "" || q.Last
	more := len(d.Rows) > suppressionsPerPage
	if more && backwards {
		d.Rows = d.Rows[1:]
	} else if more {
		d.Rows = d.Rows[:suppressionsPerPage]
	}
	link := func(name, value string) string {
		v := url.Values{}
		if d.Term != "" {
			v.Set("term", d.Term)
		}
		if name != "" {
			v.Set(name, value)
		}
		if len(v) == 0 {
			return lr.path()
		}
		return lr.path() + "?" + v.Encode()
	}
	hasPrev, hasNext := q.After != "" || (backwards && more), !q.Last && (more || q.Before != "")
	if len(d.Rows) == 0 {
		hasPrev, hasNext = q.After != "" || q.Before != "" || q.Last, false
	}
	if hasPrev {
		d.First = link("", "")
		if len(d.Rows) > 0 {
			d.Prev = link("before", d.Rows[0].Address)
		}
	}
	if hasNext {
		d.Next = link("after", d.Rows[len(d.Rows)-1].Address)
		d.Last = link("last", "1")
	}
}

func (s *Server) addSuppression(lr listRequest) (result, error) {
	res := result{To: lr.path()}
	f := lr.r.PostForm
	in := suppress.Input{Address: f.Get("address"), Code: f.Get("code"), Error: f.Get("error"), Reason: f.Get("reason")}
	if lr.List.List == store.Allowlist && !strings.Contains(in.Address, "@") {
		in.Address, in.Domain = "", in.Address
	}
	in.Tags = strings.Split(f.Get("tags"), ",") // none: every message ("*")
	rec, err := suppress.Record(lr.Domain, lr.List.List, in, s.Now())
	if err != nil {
		return res, err
	}
	if err := s.Regional.PutSuppressions(lr.r.Context(), []store.Suppression{rec}); err != nil {
		return res, err
	}
	s.Log.Info("suppression added", "domain", lr.Domain, "list", lr.List.List, "user_id", lr.ses.User.ID)
	res.Flash.Notice = rec.Address + " was added to " + lr.List.Title + "."
	return res, nil
}

// deleteSuppression removes one record, or one tag of an unsubscribe.
func (s *Server) deleteSuppression(lr listRequest) (result, error) {
	res := result{To: lr.path()}
	ctx, addr, tag := lr.r.Context(), suppress.Address(lr.r.PostFormValue("address")), strings.TrimSpace(lr.r.PostFormValue("tag"))
	var err error
	if tag != "" && lr.List.List == store.Unsubscribes {
		err = s.Regional.RemoveUnsubscribeTag(ctx, lr.Domain, addr, tag)
		res.Flash.Notice = "Tag " + tag + " was removed from " + addr + "."
	} else {
		err = s.Regional.DeleteSuppression(ctx, lr.Domain, lr.List.List, addr)
		res.Flash.Notice = addr + " was removed from " + lr.List.Title + "."
	}
	if errors.Is(err, store.ErrNotFound) {
		return res, fault.NotFoundf("%s is not in %s (or no longer).", addr, lr.List.Title)
	}
	if err != nil {
		return res, err
	}
	s.Log.Info("suppression removed", "domain", lr.Domain, "list", lr.List.List, "user_id", lr.ses.User.ID)
	return res, nil
}

func (s *Server) clearPage(lr listRequest) error {
	return s.show(lr.request, "suppressions_clear", "Delete all "+lr.List.Title, "suppressions", lr.view())
}

// clearSuppressions empties a list once the domain's name was typed on
// the confirmation page.
func (s *Server) clearSuppressions(lr listRequest) (result, error) {
	res := result{To: lr.path() + "/clear"}
	if !strings.EqualFold(strings.TrimSpace(lr.r.PostFormValue("confirm")), lr.Domain) {
		return res, fault.Invalidf("Type the domain's name, %s, to confirm.", lr.Domain)
	}
	if err := s.Regional.ClearSuppressions(lr.r.Context(), lr.Domain, lr.List.List); err != nil {
		return res, err
	}
	s.Log.Info("suppressions cleared", "domain", lr.Domain, "list", lr.List.List, "user_id", lr.ses.User.ID)
	return result{To: lr.path(), Flash: flash{Notice: "Every record of " + lr.List.Title + " was deleted."}}, nil
}

// importSuppressions hands an uploaded CSV to the background importer
// and shows its progress.
func (s *Server) importSuppressions(lr listRequest) (result, error) {
	res := result{To: lr.path()}
	if lr.r.MultipartForm == nil || len(lr.r.MultipartForm.File["file"]) == 0 || lr.r.MultipartForm.File["file"][0].Size == 0 {
		return res, fault.Invalidf("Choose a CSV file to import.")
	}
	file := lr.r.MultipartForm.File["file"][0]
	if file.Size > maxCSV {
		return res, fault.TooLargef("The file is larger than 25 MB; split it in parts.")
	}
	f, err := file.Open()
	if err != nil {
		return res, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return res, err
	}
	im, err := s.Importer.Submit(lr.r.Context(), lr.Domain, lr.List.List, data)
	if err != nil {
		return res, err
	}
	s.Log.Info("suppression import submitted", "domain", lr.Domain, "list", lr.List.List, "import_id", im.ID,
		"user_id", lr.ses.User.ID)
	res.To = lr.path() + "/imports/" + url.PathEscape(im.ID)
	return res, nil
}

// importData is the page of one import.
type importData struct {
	listView
	Import store.Import
	// Running is set while the import is not finished: the page asks
	// for its progress again.
	Running bool
}

func (s *Server) importPage(lr listRequest) error {
	im, err := s.Regional.Import(lr.r.Context(), lr.Domain, lr.r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && im.List != lr.List.List {
		return fault.NotFoundf("There is no such import of %s.", lr.List.Title)
	}
	if err != nil {
		return err
	}
	d := importData{listView: lr.view(), Import: im,
		Running: im.State == store.ImportPending || im.State == store.ImportRunning}
	return s.show(lr.request, "suppression_import", "Import into "+lr.List.Title, "suppressions", d)
}
