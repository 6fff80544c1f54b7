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

	"github.com/salvo-email/salvo/internal/api/wire"
	"github.com/salvo-email/salvo/internal/store"
)

//go:embed templates static
var assets embed.FS

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active section: domains, api-keys, users
	Region string
	// User and CSRF are empty on pages shown without a session.
	User  person
	CSRF  string
	Flash flash
	Data  any
}

// person is a user as pages show them: never with the password hash.
type person struct {
	ID, Email, Name string
	CreatedAt       time.Time
}

func personOf(u store.User) person {
	return person{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt}
}

// revokeForm is a key's Revoke button.
type revokeForm struct{ Action, ID, What, CSRF string }

// parsePages parses each page template with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"date":  showTime,
		"path":  url.PathEscape,
		"upper": strings.ToUpper,
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
	return s.render(rq.w, http.StatusOK, name, view{
		Title: title, Nav: nav, User: personOf(rq.ses.User), CSRF: rq.ses.CSRF(), Flash: rq.flash, Data: data,
	})
}

// fail is the one place errors become dashboard responses.
func (s *Server) fail(rq *request, err error) {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
	case errors.Is(err, store.ErrNotFound):
		we = wire.NotFound("Not found.")
	case errors.Is(err, context.Canceled) && rq.r.Context().Err() != nil:
		return // the client went away
	default:
		s.Log.Error("dashboard request failed", "method", rq.r.Method, "path", rq.r.URL.Path, "err", err)
		we = wire.Errorf(http.StatusInternalServerError, "Something went wrong; the error was logged.")
	}
	for k, vs := range we.Header {
		for _, v := range vs {
			rq.w.Header().Add(k, v)
		}
	}
	v := view{Title: http.StatusText(we.Status), Data: we.Message}
	if rq.ses.Token != "" {
		v.User, v.CSRF = personOf(rq.ses.User), rq.ses.CSRF()
	}
	if err := s.render(rq.w, we.Status, "error", v); err != nil {
		s.Log.Error("render error page", "err", err)
	}
}

// retryAfter is a 429 telling the client when to try again.
func retryAfter(wait time.Duration, msg string) *wire.Error {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	e := wire.Errorf(http.StatusTooManyRequests, "%s Try again in %v.", msg, time.Duration(secs)*time.Second)
	e.Header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	return e
}
