package mgapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/testutil"
)

// defaultMax is the production request limit (Mailgun's 52.4 MiB).
const defaultMax = 52_428_800

// parse runs ParseParams on a request built the way the server sees it:
// the body already limited by http.MaxBytesReader.
func parse(t *testing.T, method, target string, b testutil.Body, max int64) (*mgapi.Params, error) {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(b.Data))
	for k, vs := range b.Header {
		r.Header[k] = vs
	}
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, max)
	p, err := mgapi.ParseParams(r, max)
	if p != nil {
		t.Cleanup(p.Close)
	}
	return p, err
}

func mustParse(t *testing.T, method, target string, b testutil.Body) *mgapi.Params {
	t.Helper()
	p, err := parse(t, method, target, b, defaultMax)
	if err != nil {
		t.Fatalf("ParseParams: %v", err)
	}
	return p
}

// want compares every parameter of p with values.
func want(t *testing.T, p *mgapi.Params, values url.Values) {
	t.Helper()
	got := url.Values{}
	for _, name := range p.Names() {
		got[name] = p.All(name)
	}
	if !reflect.DeepEqual(got, values) {
		t.Errorf("params = %v, want %v", got, values)
	}
}

func TestParseParamsEncodings(t *testing.T) {
	t.Parallel()
	fields := url.Values{"to": {"a@example.com", "b+tag@example.com"}, "subject": {"hi & bye"}}
	jsonBody := `{"to":["a@example.com","b+tag@example.com"],"subject":"hi & bye"}`
	cases := []struct {
		name   string
		target string
		body   testutil.Body
		want   url.Values
		json   bool
	}{
		{"multipart", "/x", testutil.Multipart(fields), fields, false},
		{"urlencoded", "/x", testutil.Form(fields), fields, false},
		{"urlencoded with charset", "/x", testutil.Raw("application/x-www-form-urlencoded; charset=UTF-8", fields.Encode()), fields, false},
		{"urlencoded without content type", "/x", testutil.Body{Data: []byte(fields.Encode())}, fields, false},
		{"JSON object", "/x", testutil.JSON(jsonBody), fields, true},
		{"JSON labelled as urlencoded", "/x", testutil.Raw("application/x-www-form-urlencoded", " \n"+jsonBody), fields, true},
		{"duplicate Content-Type header", "/x", testutil.Body{Header: http.Header{"Content-Type": {"application/json", "application/json"}}, Data: []byte(jsonBody)}, fields, true},
		{"gzip urlencoded", "/x", testutil.Gzip(testutil.Form(fields)), fields, false},
		{"gzip multipart", "/x", testutil.Gzip(testutil.Multipart(fields)), fields, false},
		{"gzip JSON", "/x", testutil.Gzip(testutil.JSON(jsonBody)), fields, true},
		{"query only", "/x?" + fields.Encode(), testutil.Body{}, fields, false},
		{"query merged after body", "/x?to=b%2Btag@example.com&subject=hi+%26+bye", testutil.Form(url.Values{"to": {"a@example.com"}}), fields, false},
		{"query merged with JSON", "/x?subject=hi+%26+bye", testutil.JSON(`{"to":["a@example.com","b+tag@example.com"]}`), fields, true},
		{"blank JSON body", "/x", testutil.Raw("application/json", "  "), url.Values{}, false},
		{"empty multipart body", "/x?a=1", testutil.Raw("multipart/form-data; boundary=xyz", ""), url.Values{"a": {"1"}}, false},
		{"empty gzip body", "/x", testutil.Body{Header: http.Header{"Content-Encoding": {"gzip"}}, Data: []byte{}}, url.Values{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, http.MethodPost, c.target, c.body)
			want(t, p, c.want)
			if (p.JSON != nil) != c.json {
				t.Errorf("JSON = %q, want set: %v", p.JSON, c.json)
			}
		})
	}
}

func TestParseParamsJSONValues(t *testing.T) {
	t.Parallel()
	p := mustParse(t, http.MethodPut, "/x", testutil.JSON(
		`{"s":" v ","n":12,"f":1.50,"b":true,"list":["x",2,false,{"k":1}],"obj":{"k":[1]},"none":null}`))
	want(t, p, url.Values{"s": {" v "}, "n": {"12"}, "f": {"1.50"}, "b": {"true"}, "list": {"x", "2", "false", `{"k":1}`}, "obj": {`{"k":[1]}`}})
	if p.Has("none") {
		t.Error("a JSON null counts as sent; it must read as absent")
	}
	if p.Get("s") != "v" || p.Raw("s") != " v " {
		t.Errorf("Get trims and Raw does not: %q %q", p.Get("s"), p.Raw("s"))
	}

	arr := mustParse(t, http.MethodPost, "/x", testutil.JSON(`[{"address":"a@example.com"},{"address":"b@example.com"}]`))
	if len(arr.Names()) != 0 || !strings.HasPrefix(string(arr.JSON), "[{") {
		t.Errorf("JSON array: names %v, JSON %q", arr.Names(), arr.JSON)
	}
}

func TestParseParamsMultipartFilesAndSizes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("from", "me@example.com")
	fw, _ := mw.CreateFormFile("attachment", "report.pdf")
	_, _ = fw.Write([]byte("%PDF-1.4"))
	_ = mw.Close()
	p := mustParse(t, http.MethodPost, "/x", testutil.Raw(mw.FormDataContentType(), buf.String()))
	if got := p.Names(); !reflect.DeepEqual(got, []string{"attachment", "from"}) {
		t.Errorf("Names = %v", got)
	}
	files := p.Files("attachment")
	if len(files) != 1 || files[0].Filename != "report.pdf" || files[0].Size != 8 {
		t.Fatalf("files = %+v", files)
	}

	// A batch of 1000 recipients is one part per "to" (mailgun-go), more
	// than multipart.ReadForm's default 1000 parts.
	batch := url.Values{"from": {"me@example.com"}, "subject": {"s"}, "text": {"t"}, "recipient-variables": {"{}"}}
	for i := range 1000 {
		batch.Add("to", fmt.Sprintf("user%d@example.com", i))
	}
	if p, err := parse(t, http.MethodPost, "/x", testutil.Multipart(batch), defaultMax); err != nil || len(p.All("to")) != 1000 {
		t.Errorf("batch of 1000 recipients: %v", err)
	}

	// A text part may be as large as the request limit allows.
	html := strings.Repeat("x", 19<<20) // ReadForm's default budget is 8+10 MiB
	if p, err := parse(t, http.MethodPost, "/x", testutil.Multipart(url.Values{"html": {html}}), defaultMax); err != nil || len(p.Get("html")) != len(html) {
		t.Errorf("19 MiB html part under a 52.4 MiB limit: %v", err)
	}
}

func TestParseParamsRefusals(t *testing.T) {
	t.Parallel()
	const max = 1 << 20
	big := strings.Repeat("x", max)
	cases := []struct {
		name   string
		target string
		body   testutil.Body
		kind   fault.Kind
		msg    string
	}{
		{"urlencoded over the limit", "/x", testutil.Form(url.Values{"a": {big}}), fault.TooLarge, "request size exceeds 52.4MiB limit"},
		{"multipart over the limit", "/x", testutil.Multipart(url.Values{"a": {big}}), fault.TooLarge, "request size exceeds 52.4MiB limit"},
		{"JSON over the limit", "/x", testutil.JSON(`{"a":"` + big + `"}`), fault.TooLarge, "request size exceeds 52.4MiB limit"},
		{"gzip over the limit once inflated", "/x", testutil.Gzip(testutil.Form(url.Values{"a": {big}})), fault.TooLarge, "request size exceeds 52.4MiB limit"},
		{"bad escape in body", "/x", testutil.Raw("application/x-www-form-urlencoded", "a=%G1"), fault.Invalid, "unable to parse request: invalid URL escape"},
		{"bad escape in query", "/x?a=%", testutil.Body{}, fault.Invalid, "unable to parse request: invalid URL escape"},
		{"multipart without boundary", "/x", testutil.Raw("multipart/form-data", "a=1"), fault.Invalid, "malformed multipart/form-data request"},
		{"multipart cut short", "/x", testutil.Raw("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"), fault.Invalid, "malformed multipart/form-data request"},
		{"not gzip", "/x", testutil.Body{Header: http.Header{"Content-Encoding": {"gzip"}}, Data: []byte("a=1")}, fault.Invalid, "request body is not valid gzip"},
		{"JSON array cut short", "/x", testutil.JSON(`[{"a":1}`), fault.Invalid, "request body is not valid JSON"},
		{"JSON string", "/x", testutil.JSON(`"a=1"`), fault.Invalid, "request body is not valid JSON: json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
		{"unsupported type", "/x", testutil.Raw("application/xml", "<a/>"), fault.Invalid, `unsupported Content-Type "application/xml"; send multipart/form-data, application/x-www-form-urlencoded or application/json`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, http.MethodPost, c.target, c.body, max)
			f, ok := fault.As(err)
			if !ok || f.Kind != c.kind || f.Message != c.msg {
				t.Errorf("ParseParams error = %v, want %v %q", err, c.kind, c.msg)
			}
		})
	}
	// A GET body is never read.
	p := mustParse(t, http.MethodGet, "/x?a=1", testutil.Raw("application/json", "{not json"))
	want(t, p, url.Values{"a": {"1"}})
}

func TestBool(t *testing.T) {
	t.Parallel()
	for in, v := range map[string]bool{
		"yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "1": true, "on": true, " yes ": true,
		"no": false, "No": false, "false": false, "False": false, "0": false, "off": false, "OFF": false,
	} {
		got, ok := mgapi.ParseBool(in)
		if !ok || got != v {
			t.Errorf("ParseBool(%q) = %v, %v; want %v", in, got, ok, v)
		}
		p := mgapi.NewParams(url.Values{"flag": {in}})
		if got, err := p.Bool("flag", !v); err != nil || got != v {
			t.Errorf("Bool(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"y", "n", "maybe", "2", "truee", "htmlonly"} {
		if _, ok := mgapi.ParseBool(in); ok {
			t.Errorf("ParseBool(%q) accepted", in)
		}
		_, err := mgapi.NewParams(url.Values{"flag": {in}}).Bool("flag", false)
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid || f.Message != fmt.Sprintf("'flag' parameter must be yes, no, true or false, not %q", in) {
			t.Errorf("Bool(%q) error = %v", in, err)
		}
	}
	for _, p := range []*mgapi.Params{mgapi.NewParams(nil), mgapi.NewParams(url.Values{"flag": {""}})} {
		if got, err := p.Bool("flag", true); err != nil || !got {
			t.Errorf("absent or empty flag = %v, %v; want the default", got, err)
		}
	}
}

func TestIntAndRequired(t *testing.T) {
	t.Parallel()
	p := mgapi.NewParams(url.Values{"n": {" 42 "}, "neg": {"-1"}, "word": {"ten"}, "blank": {" "}})
	if n, err := p.Int("n", 0, 0, 100); err != nil || n != 42 {
		t.Errorf("Int(n) = %d, %v", n, err)
	}
	if n, err := p.Int("absent", 7, 0, 100); err != nil || n != 7 {
		t.Errorf("Int(absent) = %d, %v; want the default", n, err)
	}
	for name, msg := range map[string]string{
		"neg":  "'neg' parameter must be between 0 and 100",
		"word": `'word' parameter must be an integer, not "ten"`,
	} {
		if _, err := p.Int(name, 0, 0, 100); err == nil || err.(*fault.Error).Message != msg {
			t.Errorf("Int(%s) error = %v, want %q", name, err, msg)
		}
	}
	if _, err := p.Required("blank"); err == nil || fault.KindOf(err) != fault.Invalid || err.(*fault.Error).Message != "Missing mandatory parameter: blank" {
		t.Errorf("Required(blank) = %v", err)
	}
	if v, err := p.Required("n"); err != nil || v != "42" {
		t.Errorf("Required(n) = %q, %v", v, err)
	}
}

func TestAccept(t *testing.T) {
	t.Parallel()
	p := mgapi.NewParams(url.Values{"to": {"a"}, "h:X-Custom": {"1"}, "v:id": {"2"}, "x": {""}})
	var seen [][]string
	p.OnIgnore = func(names []string) { seen = append(seen, names) }
	p.Accept("to", "h:*", "v:*", "cc")
	if got := p.Ignored(); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("Accept with exact and prefix names ignored %q; want [x] (an empty but present parameter counts)", got)
	}
	p.Accept("to", "h:*")
	p.Ignore("o:unknown", "v:id")
	want := []string{"o:unknown", "v:id", "x"}
	if got := p.Ignored(); !reflect.DeepEqual(got, want) {
		t.Errorf("Ignored() = %q, want %q", got, want)
	}
	if len(seen) != 3 || !reflect.DeepEqual(seen[2], want) {
		t.Errorf("OnIgnore calls = %q; want three, the last with %q", seen, want)
	}
	p.Ignore("x")
	if len(seen) != 3 {
		t.Errorf("OnIgnore called again for a name already recorded: %q", seen)
	}
	if got := mgapi.NewParams(nil); len(got.Ignored()) != 0 {
		t.Errorf("no parameters, yet Ignored() = %q", got.Ignored())
	}
	if s := mgapi.NewParams(url.Values{"smtp_password": {"hunter22"}}).String(); strings.Contains(s, "hunter22") || !strings.Contains(s, "smtp_password") {
		t.Errorf("String() = %q; it must name parameters and hide values", s)
	}
}

// Files count as parameters for Accept.
func TestAcceptCountsFiles(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("attachment", "a.txt")
	_, _ = io.WriteString(fw, "x")
	_ = mw.Close()
	p := mustParse(t, http.MethodPost, "/x", testutil.Raw(mw.FormDataContentType(), buf.String()))
	p.Accept("to")
	if got := p.Ignored(); !reflect.DeepEqual(got, []string{"attachment"}) {
		t.Errorf("Accept(to) on a file part: ignored %q, want [attachment]", got)
	}
}
