package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/auth"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
	"github.com/salvo-email/salvo/internal/web"
)

const (
	testEmail    = "ops@example.com"
	testPassword = "correct horse battery"
)

// dash is a running app with one dashboard user.
type dash struct {
	*testutil.TestApp
	// Base is the HTTP base URL of the listener (the public URL may differ).
	Base string
	// DNS is the app's DNS server.
	DNS *testutil.DNSServer
}

type dashOptions struct {
	clock     *testutil.Clock
	configure func(*config.Config)
	// bcryptCost is the password hash cost (testutil's low default if 0).
	bcryptCost int
}

func startDash(t *testing.T, o dashOptions) *dash {
	t.Helper()
	dnsSrv := testutil.StartDNS(t) // verification never leaves the machine
	opts := testutil.AppOptions{Configure: func(c *config.Config) {
		c.DNS = dnsSrv.Addr
		if o.configure != nil {
			o.configure(c)
		}
	}}
	if o.clock != nil {
		opts.Seams.Now = o.clock.Now
	}
	opts.Seams.BcryptCost = o.bcryptCost
	ta := testutil.StartApp(t, opts)
	if _, err := ta.Users.Create(context.Background(), auth.NewUser{Email: testEmail, Name: "Ops", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	return &dash{TestApp: ta, Base: "http://" + ta.HTTPAddr(), DNS: dnsSrv}
}

// webServer is the dashboard handler of d.
func (d *dash) webServer(t *testing.T) *web.Server {
	t.Helper()
	s, ok := d.Web.(*web.Server)
	if !ok {
		t.Fatalf("App.Web is %T", d.Web)
	}
	return s
}

// jar keeps cookies by name, ignoring Secure, so tests can act under an
// https public URL over a plain listener.
type jar struct {
	mu sync.Mutex
	m  map[string]string
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.m, c.Name)
		} else {
			j.m[c.Name] = c.Value
		}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for n, v := range j.m {
		out = append(out, &http.Cookie{Name: n, Value: v})
	}
	return out
}

// client is a browser stand-in that does not follow redirects.
type client struct {
	t    *testing.T
	base string
	jar  *jar
	hc   *http.Client
	// header is added to every request.
	header http.Header
}

func (d *dash) client(t *testing.T) *client {
	j := &jar{m: map[string]string{}}
	return &client{t: t, base: d.Base, jar: j, header: http.Header{}, hc: &http.Client{
		Jar: j, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read.
type page struct {
	*http.Response
	Body string
}

func (c *client) do(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	return c.doBody(method, path, body, "application/x-www-form-urlencoded")
}

// upload posts form as multipart/form-data with a file part "file"
// holding data (named upload.csv).
func (c *client) upload(path string, form url.Values, data string) page {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(name, v)
		}
	}
	fw, err := mw.CreateFormFile("file", "upload.csv")
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(data))
	_ = mw.Close()
	return c.doBody(http.MethodPost, path, &buf, mw.FormDataContentType())
}

func (c *client) doBody(method, path string, body io.Reader, contentType string) page {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return page{Response: resp, Body: string(b)}
}

func (c *client) get(path string) page { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf returns the CSRF token of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfRE.FindStringSubmatch(p.Body)
	if p.StatusCode != http.StatusOK || m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, p.StatusCode, p.Body)
	}
	return m[1]
}

// tryLogin submits the login form.
func (c *client) tryLogin(email, password string) page {
	c.t.Helper()
	return c.post("/dashboard/login", url.Values{"csrf": {c.csrf("/dashboard/login")}, "email": {email}, "password": {password}})
}

// login logs in and returns the session's CSRF token.
func (c *client) login(email, password string) string {
	c.t.Helper()
	p := c.tryLogin(email, password)
	if p.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %d\n%s", p.StatusCode, p.Body)
	}
	return c.csrf("/dashboard/domains")
}

// redirectsToLogin reports whether p sends the browser to the login form.
func redirectsToLogin(p page) bool {
	return p.StatusCode == http.StatusSeeOther && strings.HasPrefix(p.Header.Get("Location"), "/dashboard/login")
}

// apiStatus calls the API with Basic auth and returns the status.
func (d *dash) apiStatus(t *testing.T, method, path, key string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(method, d.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("api", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
