package testutil

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// Body is a request body with the headers that describe it.
type Body struct {
	Header http.Header
	Data   []byte
}

// NoBody sends no body at all.
var NoBody = Body{}

// Form is an application/x-www-form-urlencoded body.
func Form(v url.Values) Body {
	return Raw("application/x-www-form-urlencoded", v.Encode())
}

// Multipart is a multipart/form-data body with one text part per value,
// in name order.
func Multipart(v url.Values) Body {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, value := range v[name] {
			_ = mw.WriteField(name, value) // writes to a bytes.Buffer cannot fail
		}
	}
	_ = mw.Close()
	return Body{Header: http.Header{"Content-Type": {mw.FormDataContentType()}}, Data: buf.Bytes()}
}

// JSON is an application/json body.
func JSON(s string) Body { return Raw("application/json", s) }

// Raw is a body of any content type, sent as is.
func Raw(contentType, data string) Body {
	return Body{Header: http.Header{"Content-Type": {contentType}}, Data: []byte(data)}
}

// Gzip compresses b and marks it Content-Encoding: gzip.
func Gzip(b Body) Body {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b.Data)
	_ = zw.Close()
	h := b.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Encoding", "gzip")
	return Body{Header: h, Data: buf.Bytes()}
}

// Response is what a Call got back.
type Response struct {
	// Request is "METHOD path", for failure messages.
	Request string
	Status  int
	Header  http.Header
	Body    string
}

// String is the request, status and (shortened) body, for failure messages.
func (r Response) String() string {
	body := strings.TrimSpace(r.Body)
	if len(body) > 400 {
		body = body[:400] + "…"
	}
	return fmt.Sprintf("%s = %d %s", r.Request, r.Status, body)
}

// Call sends one request to base+path with HTTP Basic auth user "api" and
// password key (no Authorization header when key is empty) and reads the
// whole response. Transport errors fail the test.
func Call(t testing.TB, method, base, path, key string, body Body) Response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body.Data))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if body.Data == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range body.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if key != "" {
		req.SetBasicAuth("api", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Request: method + " " + path, Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Call is testutil.Call against this app.
func (ta *TestApp) Call(t testing.TB, method, path, key string, body Body) Response {
	t.Helper()
	return Call(t, method, ta.URL, path, key, body)
}

// Decode reads the body as JSON into v, failing the test otherwise.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%s: body is not the JSON expected: %v", r, err)
	}
}

// Want fails the test unless the status is status.
func (r Response) Want(t testing.TB, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s, want status %d", r, status)
	}
	return r
}

// WantMessage fails the test unless the response is status with a JSON
// body of exactly {"message": message}.
func (r Response) WantMessage(t testing.TB, status int, message string) {
	t.Helper()
	r.Want(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", r.Request, ct)
	}
	var got map[string]any
	r.Decode(t, &got)
	if len(got) != 1 || got["message"] != message {
		t.Errorf("%s, want {\"message\":%q}", r, message)
	}
}
