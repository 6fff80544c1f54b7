package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailgun/mailgun-go/v4"

	"github.com/salvo-email/salvo/internal/app"
	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// testDomain is the sending domain every env creates.
const testDomain = "mg.example.com"

// fakeClock is a goroutine-safe fake clock for app.Seams.Now: the real time
// plus an offset that tests move forward, so timestamps keep increasing
// while "hours" pass in an instant.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// sendEnv is a running node that delivers to a fake MX (SALVO_SMARTHOST), with
// a fake clock and testDomain created.
type sendEnv struct {
	t     testing.TB
	app   *testutil.TestApp
	mx    *testutil.FakeMX
	mg    *mailgun.MailgunImpl
	clock *fakeClock
}

type sendEnvOptions struct {
	postgres  bool
	configure func(*config.Config)
	// dial replaces how delivery connects to the MX (app.Seams.Dial).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// bcryptCost is the password hash cost (testutil's low default if 0).
	bcryptCost int
}

func startSendEnv(t testing.TB, o sendEnvOptions) *sendEnv {
	t.Helper()
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	clk := &fakeClock{}
	ta := testutil.StartApp(t, testutil.AppOptions{
		Postgres: o.postgres,
		Seams:    app.Seams{Now: clk.Now, Dial: o.dial, BcryptCost: o.bcryptCost},
		Configure: func(c *config.Config) {
			c.Smarthost = mx.Addr
			if o.configure != nil {
				o.configure(c)
			}
		},
	})
	mg := mailgun.NewMailgun(testDomain, ta.Key)
	mg.SetAPIBase(ta.URL + "/v3")
	if _, err := mg.CreateDomain(context.Background(), testDomain, nil); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	return &sendEnv{t: t, app: ta, mx: mx, mg: mg, clock: clk}
}

// onBothStores runs f as parallel subtests on SQLite and on PostgreSQL.
func onBothStores(t *testing.T, f func(t *testing.T, postgres bool)) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			f(t, pg)
		})
	}
}

// with returns e reporting to t (for subtests sharing one env).
func (e *sendEnv) with(t *testing.T) *sendEnv {
	c := *e
	c.t = t
	return &c
}

// reqBody is a request body with its Content-Type.
type reqBody struct {
	contentType string
	data        []byte
}

func formBody(v url.Values) reqBody {
	return reqBody{"application/x-www-form-urlencoded", []byte(v.Encode())}
}

// upload is a file part of a multipart body.
type upload struct {
	field, name string
	data        []byte
}

func multipartBody(v url.Values, files ...upload) reqBody {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, vs := range v {
		for _, value := range vs {
			_ = mw.WriteField(name, value)
		}
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile(f.field, f.name)
		_, _ = w.Write(f.data)
	}
	_ = mw.Close()
	return reqBody{mw.FormDataContentType(), buf.Bytes()}
}

// call makes an authenticated request to path (absolute URLs are used as
// they are) and returns the status and body.
func (e *sendEnv) call(method, path string, b reqBody, header ...string) (int, []byte) {
	e.t.Helper()
	status, body, err := e.do(method, path, b, header...)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, body
}

// do is call for goroutines other than the test's: it returns errors.
func (e *sendEnv) do(method, path string, b reqBody, header ...string) (int, []byte, error) {
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.app.URL + path
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(b.data))
	if err != nil {
		return 0, nil, err
	}
	if b.contentType != "" {
		req.Header.Set("Content-Type", b.contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.SetBasicAuth("api", e.app.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// getJSON GETs path, expects 200 and decodes the body into v.
func (e *sendEnv) getJSON(path string, v any, header ...string) {
	e.t.Helper()
	status, body := e.call(http.MethodGet, path, reqBody{}, header...)
	if status != http.StatusOK {
		e.t.Fatalf("GET %s = %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		e.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// send posts a /messages request and returns the response id.
func (e *sendEnv) send(v url.Values, header ...string) string {
	e.t.Helper()
	status, body := e.call(http.MethodPost, "/v3/"+testDomain+"/messages", formBody(v), header...)
	if status != http.StatusOK {
		e.t.Fatalf("send = %d %s", status, body)
	}
	var r mgapi.SendResponse
	if err := json.Unmarshal(body, &r); err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

// eventsPage is an Events API response as the wire carries it.
type eventsPage struct {
	Items  []mgapi.Event `json:"items"`
	Paging mgapi.Paging  `json:"paging"`
}

// events returns every event matching query, following next links until
// the empty page.
func (e *sendEnv) events(query url.Values) []mgapi.Event {
	e.t.Helper()
	var all []mgapi.Event
	next := "/v3/" + testDomain + "/events?" + query.Encode()
	for range 1000 {
		var p eventsPage
		e.getJSON(next, &p)
		if len(p.Items) == 0 {
			return all
		}
		all = append(all, p.Items...)
		next = p.Paging.Next
	}
	e.t.Fatal("events: no empty page after 1000 pages")
	return nil
}

// storeEvents reads the domain's events straight from the store.
func (e *sendEnv) storeEvents(typ string) []store.Event {
	e.t.Helper()
	evs, err := e.app.Regional.Events(context.Background(), store.EventQuery{
		Domain: testDomain, Type: typ, Ascending: true, Limit: 10000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// waitEvents waits until the domain has at least n events of typ.
func (e *sendEnv) waitEvents(typ string, n int) []store.Event {
	e.t.Helper()
	var evs []store.Event
	waitFor(e.t, 20*time.Second, func() bool {
		evs = e.storeEvents(typ)
		return len(evs) >= n
	}, func() string { return "events " + typ + ": " + strconv.Itoa(len(evs)) + " < " + strconv.Itoa(n) })
	return evs
}

// queueLen is how many jobs wait in the region's queue.
func (e *sendEnv) queueLen() int {
	e.t.Helper()
	stats, err := e.app.Regional.QueueStats(context.Background(), "", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, s := range stats {
		n += s.Waiting
	}
	return n
}

// assertNothingStored checks that no request so far left a trace: no
// event, no queued job, nothing at the MX.
func (e *sendEnv) assertNothingStored(what string) {
	e.t.Helper()
	if evs := e.storeEvents(""); len(evs) > 0 {
		e.t.Errorf("%s: %d events stored, first %s", what, len(evs), evs[0].Data)
	}
	if n := e.queueLen(); n > 0 {
		e.t.Errorf("%s: %d jobs queued", what, n)
	}
	if n := e.mx.RecipientCount(); n > 0 {
		e.t.Errorf("%s: the MX received %d recipients", what, n)
	}
}

// waitFor polls cond until it holds or timeout passes; desc explains the
// failure.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, desc func() string) {
	t.Helper()
	testutil.WaitFor(t, timeout, cond, desc)
}

// byRecipient indexes received messages by envelope recipient.
func byRecipient(msgs []testutil.Received) map[string][]testutil.Received {
	out := map[string][]testutil.Received{}
	for _, m := range msgs {
		for _, r := range m.To {
			out[strings.ToLower(r)] = append(out[strings.ToLower(r)], m)
		}
	}
	return out
}

// header returns a header field of a raw message ("" when absent).
func header(raw []byte, name string) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	lines := strings.Split(string(raw[:end]), "\r\n")
	for i, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(k, name) {
			continue
		}
		for _, cont := range lines[i+1:] {
			if cont == "" || (cont[0] != ' ' && cont[0] != '\t') {
				break
			}
			v += cont
		}
		return strings.TrimSpace(v)
	}
	return ""
}
