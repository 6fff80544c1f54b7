package e2e

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/config"
	"github.com/salvo-email/salvo/internal/delivery"
	"github.com/salvo-email/salvo/internal/testutil"
)

// readmeBlock is the first fenced code block after marker in the README
// (the marker's line, or any line containing it when marker is plain
// text), with backslash-newline continuations joined.
func readmeBlock(t *testing.T, readme, marker string) []string {
	t.Helper()
	i := strings.Index(readme, marker)
	if i < 0 {
		t.Fatalf("README has no %q", marker)
	}
	rest := readme[i:]
	if !strings.HasPrefix(marker, "<!--") { // the block that contains marker
		rest = readme[strings.LastIndex(readme[:i], "```sh"):]
	}
	start := strings.Index(rest, "```sh\n")
	end := strings.Index(rest[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatalf("no code block after %q", marker)
	}
	text := strings.ReplaceAll(rest[start+6:start+6+end], "\\\n", " ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

var assignment = regexp.MustCompile(`^[A-Z_]+=\S+$`)

// TestReadmeQuickStart follows README.md's quick start literally: the
// settings on its `salvo serve` line start the node, and its curl
// commands, run by the shell as written (only the address of the node is
// this test's), create the domain, send, and find the delivered event of
// the captured copy, whose storage.url gives the signed copy back.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's quick start uses curl, which is not installed (Debian package curl)")
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)

	serve := readmeBlock(t, readme, "<!-- quick-start: serve -->")
	words := strings.Fields(serve[0])
	env := map[string]string{}
	for len(words) > 0 && assignment.MatchString(words[0]) {
		name, value, _ := strings.Cut(words[0], "=")
		env[name] = value
		words = words[1:]
	}
	if len(serve) != 1 || strings.Join(words, " ") != "./salvo serve" || env["SALVO_CAPTURE"] != "true" || env["SALVO_API_KEY"] == "" {
		t.Fatalf("the quick start's serve line is not a capture-mode start with a chosen key: %q", serve)
	}
	const readmeBase = "http://127.0.0.1:8080"
	if got := config.URLOf(config.Default().HTTPAddr); got != readmeBase {
		t.Fatalf("the README's address %s is not the default %s", readmeBase, got)
	}
	ta := testutil.StartApp(t, testutil.AppOptions{Configure: func(c *config.Config) {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		config.Register(fs, c)
		if err := config.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
	}})

	var vars []string // the block's VAR=value lines, in front of every command
	sh := func(cmd string) string {
		t.Helper()
		script := strings.Join(append(vars, strings.ReplaceAll(cmd, readmeBase, ta.URL)), "\n")
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	send := readmeBlock(t, readme, "<!-- quick-start: send -->")
	var outs []string
	for _, line := range send {
		if assignment.MatchString(line) {
			vars = append(vars, line)
			continue
		}
		outs = append(outs, sh(line))
	}
	if len(outs) != 3 || !strings.Contains(outs[0], `"name":"mg.example.com"`) || !strings.Contains(outs[1], `"Queued. Thank you."`) {
		t.Fatalf("create domain and send answered:\n%s", strings.Join(outs, "\n"))
	}

	// The events command, again until delivery has happened.
	var page struct {
		Items []struct {
			Event          string
			Recipient      string
			DeliveryStatus struct {
				Code    int
				Message string
				MXHost  string `json:"mx-host"`
			} `json:"delivery-status"`
			Storage struct{ URL string }
		}
	}
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(100 * time.Millisecond) {
		if err := json.Unmarshal([]byte(outs[2]), &page); err != nil {
			t.Fatalf("events: %v\n%s", err, outs[2])
		}
		if len(page.Items) > 0 || time.Now().After(deadline) {
			break
		}
		outs[2] = sh(send[len(send)-1])
	}
	if len(page.Items) != 1 {
		t.Fatalf("want one delivered event, got:\n%s", outs[2])
	}
	ev := page.Items[0]
	if ev.Event != "delivered" || ev.Recipient != "you@example.net" || ev.DeliveryStatus.Code != 250 ||
		ev.DeliveryStatus.Message != delivery.CaptureMessage || ev.DeliveryStatus.MXHost != delivery.CaptureHost ||
		!strings.HasPrefix(ev.Storage.URL, ta.URL+"/v3/domains/mg.example.com/messages/") {
		t.Fatalf("delivered event = %+v", ev)
	}

	const placeholder = "<storage.url from the event>"
	get := readmeBlock(t, readme, placeholder)
	var stored struct {
		BodyMIME string `json:"body-mime"`
	}
	out := sh(strings.Replace(get[0], placeholder, "'"+ev.Storage.URL+"'", 1))
	if err := json.Unmarshal([]byte(out), &stored); err != nil {
		t.Fatalf("the captured copy: %v\n%s", err, out)
	}
	for _, want := range []string{"Return-Path: <bounce+", "DKIM-Signature:", "Subject: Hello", "To: <you@example.net>", "Hi there"} {
		if !strings.Contains(stored.BodyMIME, want) {
			t.Errorf("the captured copy lacks %q:\n%s", want, stored.BodyMIME)
		}
	}
}
