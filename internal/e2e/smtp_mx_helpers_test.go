package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/testutil"
)

// hookPost is one POST a hookServer received.
type hookPost struct {
	Path        string
	ContentType string
	Body        []byte
	Form        url.Values
	Files       map[string]hookFile
}

type hookFile struct {
	Name, ContentType string
	Data              []byte
}

// hookServer is a real HTTP server on 127.0.0.1 that records the route
// POSTs it gets and answers each path with the statuses queued for it
// (then 200). A path with a gate waits on it before answering.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []hookPost
	status map[string][]int
	gates  map[string]chan struct{}
}

func startHookServer(t *testing.T) *hookServer {
	t.Helper()
	h := &hookServer{status: map[string][]int{}, gates: map[string]chan struct{}{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := hookPost{Path: r.URL.RequestURI(), ContentType: r.Header.Get("Content-Type"), Body: body, Files: map[string]hookFile{}}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(32 << 20); err == nil {
		p.Form = r.MultipartForm.Value
		for name, fhs := range r.MultipartForm.File {
			f, _ := fhs[0].Open()
			data, _ := io.ReadAll(f)
			f.Close()
			p.Files[name] = hookFile{Name: fhs[0].Filename, ContentType: fhs[0].Header.Get("Content-Type"), Data: data}
		}
	}
	h.mu.Lock()
	h.posts = append(h.posts, p)
	gate := h.gates[r.URL.Path]
	status := http.StatusOK
	if q := h.status[r.URL.Path]; len(q) > 0 {
		status, h.status[r.URL.Path] = q[0], q[1:]
	}
	h.mu.Unlock()
	if gate != nil {
		<-gate
	}
	w.WriteHeader(status)
}

// respond queues statuses for path.
func (h *hookServer) respond(path string, statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[path] = append(h.status[path], statuses...)
}

// gate makes POSTs to path wait until the returned channel is closed.
func (h *hookServer) gate(path string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan struct{})
	h.gates[path] = c
	return c
}

// postsTo returns the POSTs whose path (without query) is path.
func (h *hookServer) postsTo(path string) []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookPost
	for _, p := range h.posts {
		if strings.SplitN(p.Path, "?", 2)[0] == path {
			out = append(out, p)
		}
	}
	return out
}

// waitPosts waits until path got n POSTs.
func (h *hookServer) waitPosts(t *testing.T, path string, n int) []hookPost {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool { return len(h.postsTo(path)) >= n },
		func() string { return "POSTs to " + path + ": " + strconv.Itoa(len(h.postsTo(path))) })
	return h.postsTo(path)
}

// mxEnv is a node whose MX receives for testDomain, with a DNS server for
// the senders' SPF and DKIM records, a fake clock and a fake MX for what
// routes forward to addresses.
type mxEnv struct {
	*sendEnv
	dns  *testutil.DNSServer
	hook *hookServer
}

func startMXEnv(t *testing.T, configure func(*config.Config)) *mxEnv {
	t.Helper()
	return startMXEnvSeams(t, app.Seams{}, configure)
}

// startMXEnvSeams is startMXEnv with seams of the app's (Now is the env's
// fake clock).
func startMXEnvSeams(t *testing.T, seams app.Seams, configure func(*config.Config)) *mxEnv {
	t.Helper()
	dnsSrv := testutil.StartDNS(t)
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	clk := &fakeClock{}
	seams.Now = clk.Now
	ta := testutil.StartApp(t, testutil.AppOptions{
		Seams: seams,
		Configure: func(c *config.Config) {
			c.Smarthost, c.DNS = mx.Addr, dnsSrv.Addr
			if configure != nil {
				configure(c)
			}
		},
	})
	mg := mailgun.NewMailgun(testDomain, ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")
	if _, err := mg.CreateDomain(context.Background(), testDomain, nil); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	return &mxEnv{sendEnv: &sendEnv{t: t, app: ta, mx: mx, mg: mg, clock: clk}, dns: dnsSrv, hook: startHookServer(t)}
}

// route creates a route through the SDK and returns its id.
func (e *mxEnv) route(priority int, expr string, actions ...string) string {
	e.t.Helper()
	r, err := e.mg.CreateRoute(context.Background(), mailgun.Route{Priority: priority, Expression: expr, Actions: actions})
	if err != nil {
		e.t.Fatalf("CreateRoute %s: %v", expr, err)
	}
	return r.Id
}

// deliverMX sends raw to the MX over STARTTLS and returns the error of
// the transaction (nil on 250).
func (e *mxEnv) deliverMX(from string, to []string, raw []byte) error {
	e.t.Helper()
	c := dialSMTP(e.t, e.app.MXAddr(), "starttls")
	_, err := submit(c, from, to, string(raw))
	return err
}

// request rebuilds the POST as an *http.Request, for mailgun-go's
// VerifyWebhookRequest.
func (p hookPost) request(t *testing.T) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+p.Path, bytes.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", p.ContentType)
	return r
}
