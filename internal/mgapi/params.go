// Request parameters: Mailgun clients send the same parameters as
// multipart/form-data, application/x-www-form-urlencoded, JSON or query
// strings (mailgun.js puts some writes in the query), so Params merges
// them all.

package mgapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/fault"
)

// RequestTooLarge is Mailgun's 413.
var RequestTooLarge = &fault.Error{Kind: fault.TooLarge, Message: "request size exceeds 52.4MiB limit"}

// Params are a request's parameters: query string and body merged.
type Params struct {
	values url.Values
	files  map[string][]*multipart.FileHeader
	// JSON holds the body when it was a JSON array (bulk endpoints) or
	// object, for handlers that want the structured form.
	JSON []byte
	// ContentType is the request's media type, without parameters.
	ContentType string
	// OnIgnore, when set, is called with every ignored name so far each
	// time Accept or Ignore records a new one (the HTTP edge sets a
	// response header from it before the handler writes).
	OnIgnore   func(ignored []string)
	form       *multipart.Form
	ignored    []string // sorted
	ignoredSet map[string]bool
}

// NewParams wraps values (used by tests and by non-HTTP callers).
func NewParams(v url.Values) *Params {
	if v == nil {
		v = url.Values{}
	}
	return &Params{values: v, files: map[string][]*multipart.FileHeader{}}
}

// ParseParams reads r's query and body. The body must already be limited
// (http.MaxBytesReader); a body over the limit gives RequestTooLarge.
//
// A multipart body may hold as much in memory as an urlencoded one
// (maxBytes): multipart.ReadForm otherwise refuses text parts beyond its
// memory budget plus 10 MiB, such as a large html part. Its default cap of
// 1000 parts, too low for a batch of 1000 recipients, is raised by the
// multipartmaxparts godebug setting in go.mod.
func ParseParams(r *http.Request, maxBytes int64) (*Params, error) {
	p := NewParams(nil)
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fault.Invalidf("unable to parse request: invalid URL escape")
	}
	// An empty body (Content-Length: 0) carries no parameters whatever its
	// Content-Type says; r.Body is no longer http.NoBody once limited.
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || r.Method == http.MethodGet || r.Method == http.MethodHead {
		p.values = q
		return p, nil
	}
	body := r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, bodyError(err, "request body is not valid gzip")
		}
		body = http.MaxBytesReader(nil, zr, maxBytes)
	}
	ct := r.Header.Get("Content-Type")
	mt, mparams, _ := mime.ParseMediaType(ct)
	p.ContentType = mt
	switch mt {
	case "multipart/form-data":
		boundary := mparams["boundary"]
		if boundary == "" {
			return nil, fault.Invalidf("malformed multipart/form-data request")
		}
		form, err := multipart.NewReader(body, boundary).ReadForm(maxBytes)
		if err != nil {
			return nil, bodyError(err, "malformed multipart/form-data request")
		}
		p.form = form
		p.values = url.Values(form.Value)
		p.files = form.File
	default:
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, bodyError(err, "unable to read request body")
		}
		trimmed := bytes.TrimSpace(raw)
		switch {
		case len(trimmed) == 0:
		case mt == "application/json" || trimmed[0] == '{' || trimmed[0] == '[':
			// mailgun.js sends some JSON bodies labelled as urlencoded.
			if err := p.readJSON(trimmed); err != nil {
				return nil, err
			}
		case mt == "application/x-www-form-urlencoded" || mt == "" || mt == "text/plain":
			v, err := url.ParseQuery(string(trimmed))
			if err != nil {
				return nil, fault.Invalidf("unable to parse request: invalid URL escape")
			}
			p.values = v
		default:
			return nil, fault.Invalidf("unsupported Content-Type %q; send multipart/form-data, application/x-www-form-urlencoded or application/json", mt)
		}
	}
	for k, vs := range q {
		p.values[k] = append(p.values[k], vs...)
	}
	return p, nil
}

func bodyError(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return RequestTooLarge
	}
	return fault.Invalidf("%s", msg)
}

func (p *Params) readJSON(b []byte) error {
	p.JSON = b
	if b[0] == '[' {
		if !json.Valid(b) {
			return fault.Invalidf("request body is not valid JSON")
		}
		return nil
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return fault.Invalidf("request body is not valid JSON: %v", err)
	}
	for k, raw := range obj {
		vals, err := jsonValues(raw)
		if err != nil {
			return fault.Invalidf("parameter %q: %v", k, err)
		}
		if vals == nil {
			continue // null: as if absent
		}
		p.values[k] = append(p.values[k], vals...)
	}
	return nil
}

// jsonValues turns one JSON member into form values: scalars as their text,
// arrays of scalars as repeated values, anything else as its JSON text.
func jsonValues(raw json.RawMessage) ([]string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case json.Number:
		return []string{x.String()}, nil
	case bool:
		return []string{strconv.FormatBool(x)}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			switch y := e.(type) {
			case string:
				out = append(out, y)
			case json.Number:
				out = append(out, y.String())
			case bool:
				out = append(out, strconv.FormatBool(y))
			default:
				b, _ := json.Marshal(y)
				out = append(out, string(b))
			}
		}
		return out, nil
	default:
		return []string{string(raw)}, nil
	}
}

// Close removes temporary files of a multipart body.
func (p *Params) Close() {
	if p.form != nil {
		_ = p.form.RemoveAll()
	}
}

// Has reports whether name was sent at all.
func (p *Params) Has(name string) bool {
	_, ok := p.values[name]
	return ok
}

// Get returns the first value of name, trimmed, or "".
func (p *Params) Get(name string) string {
	if vs := p.values[name]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

// Raw returns the first value of name untrimmed.
func (p *Params) Raw(name string) string {
	if vs := p.values[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// All returns every value of name.
func (p *Params) All(name string) []string { return p.values[name] }

// Names returns the parameter names, sorted.
func (p *Params) Names() []string {
	out := make([]string, 0, len(p.values)+len(p.files))
	for k := range p.values {
		out = append(out, k)
	}
	for k := range p.files {
		if _, dup := p.values[k]; !dup {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Files returns the file parts named name.
func (p *Params) Files(name string) []*multipart.FileHeader { return p.files[name] }

// Set replaces name's values (used when a handler normalises input).
func (p *Params) Set(name string, values ...string) { p.values[name] = values }

// Accept names the parameters an endpoint knows; an allowed entry ending
// in "*" matches by prefix ("h:*"). Any other parameter is ignored, as
// Mailgun ignores it, and recorded (Ignored) so that the edge can name it
// in a response header and a debug log line: real clients repeat options
// Mailgun tolerates (Ghost sends a page URL back with all its original
// query parameters), and refusing them broke those clients. Known
// parameters are still checked by the handler and bad values refused.
func (p *Params) Accept(allowed ...string) {
	var unknown []string
	for _, name := range p.Names() {
		if !matchesAny(name, allowed) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		p.Ignore(unknown...)
	}
}

// Ignore records parameters the endpoint reads no further (an unknown o:
// option of a send, say); each name is recorded once. Callers pass all
// the names of a request in one call where they can: OnIgnore runs once
// per call that adds a name.
func (p *Params) Ignore(names ...string) {
	added := false
	for _, name := range names {
		if p.ignoredSet == nil {
			p.ignoredSet = map[string]bool{}
		}
		if !p.ignoredSet[name] {
			p.ignoredSet[name] = true
			p.ignored = append(p.ignored, name)
			added = true
		}
	}
	if added {
		sort.Strings(p.ignored)
		if p.OnIgnore != nil {
			p.OnIgnore(p.Ignored())
		}
	}
}

// Ignored returns the names recorded by Accept and Ignore, sorted.
func (p *Params) Ignored() []string { return append([]string(nil), p.ignored...) }

func matchesAny(name string, allowed []string) bool {
	for _, a := range allowed {
		if a == name || (strings.HasSuffix(a, "*") && strings.HasPrefix(name, a[:len(a)-1])) {
			return true
		}
	}
	return false
}

// ParseBool reads Mailgun's boolean spellings: yes/no, true/false, 1/0, in
// any case.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "1", "on":
		return true, true
	case "no", "false", "0", "off":
		return false, true
	}
	return false, false
}

// Bool returns name as a boolean, def when absent or empty.
func (p *Params) Bool(name string, def bool) (bool, error) {
	s := p.Get(name)
	if s == "" {
		return def, nil
	}
	b, ok := ParseBool(s)
	if !ok {
		return false, fault.Invalidf("'%s' parameter must be yes, no, true or false, not %q", name, s)
	}
	return b, nil
}

// Int returns name as an integer in [min, max], def when absent or empty.
func (p *Params) Int(name string, def, min, max int) (int, error) {
	s := p.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fault.Invalidf("'%s' parameter must be an integer, not %q", name, s)
	}
	if n < min || n > max {
		return 0, fault.Invalidf("'%s' parameter must be between %d and %d", name, min, max)
	}
	return n, nil
}

// Required returns name's value or a 400 naming it.
func (p *Params) Required(name string) (string, error) {
	v := p.Get(name)
	if v == "" {
		return "", fault.Invalidf("Missing mandatory parameter: %s", name)
	}
	return v, nil
}

// String returns a readable dump for debugging; values are not included so
// secrets never reach logs.
func (p *Params) String() string { return fmt.Sprintf("params%v", p.Names()) }
