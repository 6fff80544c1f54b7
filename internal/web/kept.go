package web

import (
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

// formField names the hidden field by which an edit form says which form
// it is, so that its page shows what was typed into it after a refused
// submit (flash.Form, kept by keptForm) and not what is stored. A form
// without it (the shared route and list forms) is told apart by its
// page and its fields: see typedRoute and typedList.
const formField = "_form"

// typedHere reports whether the refused submit kept in f came from the
// form named form.
func typedHere(f flash, form string) bool {
	return f.Error != "" && f.Form != nil && f.Form[formField] == form
}

// typed is what the form named form had typed in field after a refused
// submit, or stored when that form was not the one refused. A field the
// person emptied shows empty (keptForm drops empty values).
func typed(f flash, form, field, stored string) string {
	if typedHere(f, form) {
		return f.Form[field]
	}
	return stored
}

// typedOn is whether checkbox field of the form named form was ticked in
// a refused submit, or stored when that form was not the one refused.
func typedOn(f flash, form, field string, stored bool) bool {
	if typedHere(f, form) {
		return f.Form[field] != ""
	}
	return stored
}

// typedIs is whether the radio or select field of the form named form
// had value in a refused submit, or stored when that form was not the one
// refused.
func typedIs(f flash, form, field, value string, stored bool) bool {
	if typedHere(f, form) {
		return f.Form[field] == value
	}
	return stored
}

// routeShown is the route edit form's values (the shared "route-form").
type routeShown struct {
	Priority    string
	Expression  string
	Actions     []string
	Description string
}

// typedRoute is what the route page's edit form shows: what was typed
// after a refused save (the page's only form with fields), else r.
func typedRoute(f flash, r store.Route) routeShown {
	if f.Error != "" && f.Form != nil {
		var acts []string
		for _, line := range strings.Split(f.Form["actions"], "\n") {
			if line = strings.TrimSpace(line); line != "" {
				acts = append(acts, line)
			}
		}
		return routeShown{Priority: f.Form["priority"], Expression: f.Form["expression"], Actions: acts,
			Description: f.Form["description"]}
	}
	return routeShown{Priority: strconv.Itoa(r.Priority), Expression: r.Expression, Actions: r.Actions,
		Description: r.Description}
}

// listShown is the list edit form's values (the shared "list-form").
type listShown struct {
	Address, Name, Description, AccessLevel, ReplyPreference string
}

// typedList is what the list page's edit form shows: what was typed after
// a refused save, else l. Of the page's forms only the edit form sends
// access_level (a select, never empty).
func typedList(f flash, l store.MailingList) listShown {
	if f.Error != "" && f.Form["access_level"] != "" {
		return listShown{Address: f.Form["address"], Name: f.Form["name"], Description: f.Form["description"],
			AccessLevel: f.Form["access_level"], ReplyPreference: f.Form["reply_preference"]}
	}
	return listShown{Address: l.Address, Name: l.Name, Description: l.Description,
		AccessLevel: l.AccessLevel, ReplyPreference: l.ReplyPreference}
}

// typedNewRoute is what the Routes page's create form shows: what was
// typed after a refused create (the page's only POST form), else nil
// (the form's defaults).
func typedNewRoute(f flash) *routeShown {
	if f.Error != "" && f.Form != nil {
		r := typedRoute(f, store.Route{})
		return &r
	}
	return nil
}

// typedNewList is what the Mailing lists page's create form shows: what
// was typed after a refused create, else nil (the form's defaults).
func typedNewList(f flash) *listShown {
	if f.Error != "" && f.Form["access_level"] != "" {
		l := typedList(f, store.MailingList{})
		return &l
	}
	return nil
}
