package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

//go:embed templates static
var assets embed.FS

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active section: domains, api-keys, users
	Region string
	// OtherRegion links to the other region's dashboard, when configured.
	OtherRegion string
	// User and CSRF are empty on pages shown without a session.
	User  person
	CSRF  string
	Flash flash
	Data  any
	// Account is the account the pages act in (the header's switcher).
	Account accountView
}

// person is a user as pages show them: never with the password hash.
type person struct {
	ID, Email, Name string
	CreatedAt       time.Time
}

func personOf(u store.User) person {
	return person{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt}
}

// dict makes a map of key, value pairs for a sub-template:
// {{template "x" dict "A" 1 "B" 2}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("web: dict needs key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, errors.New("web: a dict key is not a string")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// revokeForm is a key's Revoke button.
type revokeForm struct{ Action, ID, What, CSRF string }

// parsePages parses each page template with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"date":  showTime,
		"path":  url.PathEscape,
		"upper": strings.ToUpper,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		// kept is what a refused form had in its field name (flash.Form).
		"kept": func(f flash, name string) string { return f.Form[name] },
		// typed* are an edit form's values: typed in a refused submit, else stored (kept.go).
		"typed":         typed,
		"typedHere":     typedHere,
		"typedOn":       typedOn,
		"typedIs":       typedIs,
		"typedRoute":    typedRoute,
		"typedList":     typedList,
		"typedNewRoute": typedNewRoute,
		"typedNewList":  typedNewList,
		"until":         until,
		"bytes":         byteSize,
		"tabs":          func() []settingsTab { return settingsTabs },
		"dict":          dict,
		"revoke": func(action, id, what, csrf string) revokeForm {
			return revokeForm{Action: action, ID: id, What: what, CSRF: csrf}
		},
	}
	files, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		t, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html", f)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	files := http.StripPrefix(prefix+"/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// render writes page name with status.
func (s *Server) render(w http.ResponseWriter, status int, name string, v view) error {
	t := s.pages[name]
	if t == nil {
		return errors.New("web: no template " + name)
	}
	v.Region = strings.ToUpper(s.Region)
	v.OtherRegion = s.OtherRegionURL
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// show renders a page of a logged-in request.
func (s *Server) show(rq *request, name, title, nav string, data any) error {
	return s.showStatus(rq, http.StatusOK, name, title, nav, data)
}

// showStatus renders a page of a logged-in request with status.
func (s *Server) showStatus(rq *request, status int, name, title, nav string, data any) error {
	return s.render(rq.w, status, name, view{
		Title: title, Nav: nav, User: personOf(rq.ses.User), CSRF: rq.ses.CSRF(), Flash: rq.flash, Data: data,
		Account: s.accountHeader(rq),
	})
}

// fail is the one place errors become dashboard responses.
func (s *Server) fail(rq *request, err error) {
	we, ok := fault.As(err)
	switch {
	case ok:
	case errors.Is(err, store.ErrNotFound):
		we = fault.NotFoundf("Not found.")
	case errors.Is(err, context.Canceled) && rq.r.Context().Err() != nil:
		return // the client went away
	default:
		s.Log.Error("dashboard request failed", "method", rq.r.Method, "path", rq.r.URL.Path, "err", err)
		we = fault.New(fault.Internal, "Something went wrong; the error was logged.")
	}
	setRetryAfter(rq.w.Header(), we)
	status := we.Kind.HTTPStatus()
	v := view{Title: http.StatusText(status), Data: we.Message}
	if rq.ses.Token != "" {
		v.User, v.CSRF = personOf(rq.ses.User), rq.ses.CSRF()
		v.Account = s.accountHeader(rq)
	}
	if err := s.render(rq.w, status, "error", v); err != nil {
		s.Log.Error("render error page", "err", err)
	}
}

// retryAfter is a 429 telling the client when to try again.
func retryAfter(wait time.Duration, msg string) *fault.Error {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	e := fault.TooManyf("%s Try again in %v.", msg, time.Duration(secs)*time.Second)
	e.RetryAfter = time.Duration(secs) * time.Second
	return e
}

// until says how far t is from now: "in 9m0s", "due now" or "due 5m0s ago".
func until(now, t time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d == 0:
		return "due now"
	}
	return "due " + (-d).String() + " ago"
}

// byteSize is a size for people: 512 B, 1.5 KB, 2.0 MB.
func byteSize(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n) + " B"
	case n < 1000*1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
