package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/mgapi"
	"github.com/salvo-email/salvo/internal/store"
	"github.com/salvo-email/salvo/internal/testutil"
)

// queueCall makes an authenticated API request and returns status and body.
func queueCall(t *testing.T, ta *testutil.TestApp, method, path string, form url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ta.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("api", ta.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestQueueVisibility: while a destination answers 451, GET
// /v3/{domain}/queue and `salvo queue` show what waits there, until when,
// and why; with a message id, its recipients and history.
func TestQueueVisibility(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			t.Parallel()
			testQueueVisibility(t, pg)
		})
	}
}

func testQueueVisibility(t *testing.T, pg bool) {
	mx := testutil.StartFakeMX(t, testutil.MXOptions{})
	ta := testutil.StartApp(t, testutil.AppOptions{Postgres: pg, Configure: func(c *config.Config) { c.Smarthost = mx.Addr }})
	const d = "mg.example.com"
	if status, body := queueCall(t, ta, http.MethodPost, "/v3/domains", url.Values{"name": {d}}); status != 200 {
		t.Fatalf("create domain = %d %s", status, body)
	}
	var ids []string
	for _, to := range []string{"t451a@slow.example, fine@fast.example", "t451b@slow.example"} {
		status, body := queueCall(t, ta, http.MethodPost, "/v3/"+d+"/messages", url.Values{
			"from": {"sender@" + d}, "to": {to}, "subject": {"queued"}, "text": {"x"}})
		var r struct{ ID string }
		if status != 200 || json.Unmarshal(body, &r) != nil {
			t.Fatalf("send = %d %s", status, body)
		}
		ids = append(ids, strings.Trim(r.ID, "<>"))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		failed, err := ta.Regional.Events(context.Background(), store.EventQuery{Domain: d, Type: "failed", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		delivered, err := ta.Regional.Events(context.Background(), store.EventQuery{Domain: d, Type: "delivered", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) == 2 && len(delivered) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d failed events, %d delivered", len(failed), len(delivered))
		}
		time.Sleep(20 * time.Millisecond)
	}

	var api mgapi.QueueStatus
	status, body := queueCall(t, ta, http.MethodGet, "/v3/"+d+"/queue?message-id="+url.QueryEscape("<"+ids[0]+">"), nil)
	if status != 200 || json.Unmarshal(body, &api) != nil {
		t.Fatalf("GET queue = %d %s", status, body)
	}
	if len(api.Destinations) != 1 {
		t.Fatalf("destinations = %+v, want slow.example only", api.Destinations)
	}
	dest := api.Destinations[0]
	next := time.Time(*dest.NextAttemptAt)
	if dest.Destination != "slow.example" || dest.Waiting != 2 || dest.Due != 0 || dest.InFlight != 0 ||
		!strings.HasPrefix(dest.LastError, "451 4.2.0") || !strings.Contains(dest.LastError, "Mailbox busy") {
		t.Errorf("destination = %+v", dest)
	}
	if wait := time.Until(next); wait < 8*time.Minute || wait > 11*time.Minute {
		t.Errorf("next attempt in %s, want about 10m (the first retry)", wait)
	}
	m := api.Message
	if m == nil || m.MessageID != ids[0] || len(m.Waiting) != 1 || m.Waiting[0].Recipient != "t451a@slow.example" ||
		m.Waiting[0].Attempts != 1 || !strings.HasPrefix(m.Waiting[0].LastError, "451") {
		t.Fatalf("message = %+v", m)
	}
	var history []string
	for _, h := range m.History {
		history = append(history, h.Event+" "+h.Severity+" "+h.Recipient)
	}
	want := []string{"accepted  t451a@slow.example", "accepted  fine@fast.example", "delivered  fine@fast.example",
		"failed temporary t451a@slow.example"}
	if !sameItems(history, want) {
		t.Errorf("history = %q, want %q", history, want)
	}
	// Unknown parameters are ignored, as Mailgun ignores them, and named
	// in X-Salvo-Ignored-Params (docs/compatibility.md).
	r := ta.Call(t, http.MethodGet, "/v3/"+d+"/queue?colour=red", ta.Key, testutil.NoBody)
	if r.Status != http.StatusOK || r.Header.Get("X-Salvo-Ignored-Params") != "colour" {
		t.Errorf("unknown parameter = %s, X-Salvo-Ignored-Params %q; want 200 naming it", r, r.Header.Get("X-Salvo-Ignored-Params"))
	}

	// The command line shows the same.
	getenv := func(k string) string {
		switch {
		case k == "SALVO_DATA_DIR":
			return ta.Cfg.DataDir
		case k == "SALVO_DATABASE_URL" && pg:
			return ta.Cfg.DatabaseURL
		case k == "SALVO_GLOBAL_DATABASE_URL" && pg:
			return ta.Cfg.GlobalDatabaseURL
		}
		return ""
	}
	var out, errOut bytes.Buffer
	args := []string{"queue", "--domain", d, "--message-id", "<" + ids[0] + ">"}
	if code := run(context.Background(), append(args, "--json"), &out, &errOut, getenv); code != 0 {
		t.Fatalf("salvo queue --json = %d: %s", code, errOut.String())
	}
	var cli mgapi.QueueStatus
	if err := json.Unmarshal(out.Bytes(), &cli); err != nil {
		t.Fatalf("salvo queue --json: %v\n%s", err, out.String())
	}
	if !reflect.DeepEqual(cli, api) {
		t.Errorf("salvo queue --json = %+v\nAPI = %+v", cli, api)
	}
	out.Reset()
	if code := run(context.Background(), args, &out, &errOut, getenv); code != 0 {
		t.Fatalf("salvo queue = %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, s := range []string{"slow.example", "451 4.2.0 Mailbox busy", next.Format(time.RFC3339), "message <" + ids[0] + ">",
		"t451a@slow.example", "failed (temporary)", "delivered", "fine@fast.example"} {
		if !strings.Contains(text, s) {
			t.Errorf("salvo queue output lacks %q:\n%s", s, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "fast.example") {
			t.Errorf("salvo queue lists the delivered destination as waiting:\n%s", text)
		}
	}
}

func sameItems(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
