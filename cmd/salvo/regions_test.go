package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/testutil"
)

// freePortPair finds a port p such that p and p+1 are both free on
// 127.0.0.1 (a race with other tests is possible but unlikely).
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		ln.Close()
		if err == nil {
			ln2.Close()
			return p
		}
	}
	t.Fatal("no free pair of ports")
	return 0
}

// TestServeAllRegions: `salvo serve --all-regions` runs a US and an EU node
// in one process on one data dir; a domain created through the EU API is
// the EU's, and the US API does not know it.
func TestServeAllRegions(t *testing.T) {
	t.Parallel()
	port := freePortPair(t)
	key := "all-regions-key-0123456789"
	getenv := env("SALVO_DATA_DIR", t.TempDir(), "SALVO_HTTP_ADDR", fmt.Sprintf("127.0.0.1:%d", port),
		"SALVO_API_KEY", key, "SALVO_DKIM_KEY_BITS", "1024",
		"SALVO_SMTP_ADDR", "off", "SALVO_SMTPS_ADDR", "off", "SALVO_MX_ADDR", "off")
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--all-regions"}, &testutil.SyncBuffer{}, stderr, getenv) }()
	us, eu := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", port+1)
	for _, base := range []string{us, eu} {
		waitHealthy(t, base, stderr)
	}
	post := func(base, name string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/v3/domains", strings.NewReader(url.Values{"name": {name}}.Encode()))
		req.SetBasicAuth("api", key)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return status(t, req)
	}
	get := func(base, name string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/v3/domains/"+name, nil)
		req.SetBasicAuth("api", key)
		return status(t, req)
	}
	if s := post(eu, "eu.example.com"); s != http.StatusOK {
		t.Fatalf("create through EU: %d", s)
	}
	if s := get(eu, "eu.example.com"); s != http.StatusOK {
		t.Errorf("EU GET: %d", s)
	}
	if s := get(us, "eu.example.com"); s != http.StatusNotFound {
		t.Errorf("US GET of an EU domain: %d, want 404", s)
	}
	if s := post(us, "eu.example.com"); s != http.StatusBadRequest {
		t.Errorf("US create of a taken name: %d, want 400", s)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if n := strings.Count(stderr.String(), `msg="salvo started"`); n != 2 {
		t.Errorf("%d nodes started, want 2:\n%s", n, stderr.String())
	}
}

func waitHealthy(t *testing.T, base string, logs *testutil.SyncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not become healthy:\n%s", base, logs.String())
}

func status(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
