package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
)

// env is a getenv over a fixed map, so tests never read the real environment.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// runSalvo runs the command in-process.
func runSalvo(getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, getenv)
	return code, out.String(), errb.String()
}

// TestHelpDocumentsEveryFlag: serve --help documents every setting with
// its environment twin; a store command's --help documents its own flags
// (without twins) and only the settings it reads, in the same style.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	cfg := config.Default()
	config.Register(fs, &cfg)
	settingLine := func(f *flag.Flag) string {
		def := f.DefValue
		switch {
		case f.Name == "api-key" || f.Name == "secret":
			def = "(secret)"
		case def == "":
			def = `""`
		}
		return fmt.Sprintf("--%s  (%s, default %s)\n      %s\n", f.Name, config.EnvName(f.Name), def, f.Usage)
	}
	for _, c := range []struct {
		args     []string
		settings []string // nil: all
	}{
		{[]string{"serve", "--help"}, nil},
		{[]string{"keys", "create", "-h"}, keysSettings},
		{[]string{"keys", "list", "--help"}, keysSettings},
		{[]string{"queue", "--help"}, regionalSettings},
		{[]string{"usage", "--help"}, globalSettings},
		{[]string{"users", "create", "--help"}, append(slices.Clone(globalSettings), "public-url", "http-addr")},
		{[]string{"users", "list", "--help"}, globalSettings},
		{[]string{"users", "passwd", "--help"}, globalSettings},
		{[]string{"users", "delete", "--help"}, globalSettings},
	} {
		code, out, errOut := runSalvo(env(), c.args...)
		if code != 0 || errOut != "" {
			t.Errorf("salvo %v: exit %d, stderr %q; want 0 and help on stdout only", c.args, code, errOut)
		}
		fs.VisitAll(func(f *flag.Flag) {
			want := c.settings == nil || slices.Contains(c.settings, f.Name)
			if got := strings.Contains(out, settingLine(f)); got != want {
				t.Errorf("salvo %v documents --%s: %v, want %v", c.args, f.Name, got, want)
			}
		})
	}
	_, out, _ := runSalvo(env(), "keys", "create", "--help")
	for _, want := range []string{"Usage: salvo keys create --role ROLE [flags]\n\nFlags:\n", "\n  --role  (default \"\")\n",
		"\n  --domain  (", "\n  --description  (", "\n  --expiration  (default 0)", "\nSettings (each also read from its environment variable):\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("keys create --help lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut := runSalvo(env(), "bench", "--help")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: salvo bench [flags]\n\nFlags:\n  --batch  (default false)\n") {
		t.Errorf("bench --help: exit %d, stderr %q, not in the common style:\n%s", code, errOut, out)
	}
	// The operator interface names of DESIGN.md.
	_, out, _ = runSalvo(env(), "serve", "--help")
	for _, name := range []string{"SALVO_DATA_DIR, default ./salvo-data", "SALVO_DATABASE_URL", "SALVO_GLOBAL_DATABASE_URL",
		"SALVO_REGION, default us", "SALVO_HTTP_ADDR, default 127.0.0.1:8080", "SALVO_API_KEY", "SALVO_PUBLIC_URL", "SALVO_SMARTHOST", "SALVO_DNS"} {
		if !strings.Contains(out, "("+name) {
			t.Errorf("serve --help lacks %q", name)
		}
	}
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"flag", nil, []string{"serve", "--region", "mars"}, []string{`--region (SALVO_REGION): must be us or eu, not "mars"`}},
		{"environment", []string{"SALVO_DKIM_KEY_BITS", "3"}, []string{"serve"}, []string{"--dkim-key-bits (SALVO_DKIM_KEY_BITS): must be 1024 or 2048, not 3"}},
		{"environment syntax", []string{"SALVO_SHUTDOWN_TIMEOUT", "soon"}, []string{"serve"}, []string{`--shutdown-timeout (SALVO_SHUTDOWN_TIMEOUT): cannot use "soon"`}},
		{"several at once", []string{"SALVO_LOG_FORMAT", "xml"}, []string{"serve", "--max-request-bytes", "10", "--http-addr", "nowhere"},
			[]string{"--log-format (SALVO_LOG_FORMAT)", "--max-request-bytes (SALVO_MAX_REQUEST_BYTES): must be at least 1048576", "--http-addr (SALVO_HTTP_ADDR): must be host:port"}},
		{"short api key", []string{"SALVO_API_KEY", "tiny-key"}, []string{"serve"}, []string{"--api-key (SALVO_API_KEY): must be at least 16 characters"}},
		{"database url", nil, []string{"serve", "--database-url", "mysql://x"}, []string{"--database-url (SALVO_DATABASE_URL): must start with postgres://"}},
		{"one database for both stores", nil, []string{"serve", "--database-url", "postgres://h/db", "--global-database-url", "postgres://h/db"}, []string{"--global-database-url (SALVO_GLOBAL_DATABASE_URL): must name another database than database-url"}},
		{"queue command", nil, []string{"queue", "--region", "mars"}, []string{"--region (SALVO_REGION)"}},
		{"a setting keys does not read", nil, []string{"keys", "list", "--region", "eu"}, []string{"flag provided but not defined: -region", `Run "salvo keys list --help"`}},
		{"unknown flag", nil, []string{"serve", "--nope"}, []string{"flag provided but not defined: -nope", `Run "salvo serve --help"`}},
		{"flag syntax", nil, []string{"queue", "--json=maybe"}, []string{`invalid boolean value "maybe" for -json`, `Run "salvo queue --help"`}},
		{"extra argument", nil, []string{"serve", "now"}, []string{`salvo serve: unexpected argument "now"`}},
		{"unknown command", nil, []string{"serv"}, []string{`salvo: unknown command "serv"`, "Usage:"}},
		{"unknown keys command", nil, []string{"keys", "rotate"}, []string{`salvo keys: unknown command "rotate"`}},
		{"no command", nil, nil, []string{"Usage:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			code, out, errOut := runSalvo(env(append(c.env, "SALVO_DATA_DIR", dir)...), c.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing on stdout", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "tiny-key") || strings.Count(errOut, "Usage:") > 1 {
				t.Errorf("stderr %q echoes a secret or repeats the usage", errOut)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused configuration created the data dir (%v)", err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version"} {
		code, out, errOut := runSalvo(env(), arg)
		if code != 0 || !strings.HasPrefix(out, "salvo dev") || errOut != "" {
			t.Errorf("salvo %s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
	if code, out, _ := runSalvo(env(), "help"); code != 0 || !strings.Contains(out, "salvo keys <command>") {
		t.Errorf("salvo help: exit %d, %q", code, out)
	}
}

// TestProcsFor: an embedded-store node runs one P more than Go's default;
// a PostgreSQL node keeps the default, and GOMAXPROCS always wins.
func TestProcsFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		embedded bool
		env      string
		current  int
		want     int
	}{
		{true, "", 2, 3},
		{true, "", 8, 9},
		{false, "", 2, 2},
		{true, "2", 2, 2},
		{true, "4", 4, 4},
	} {
		if got := procsFor(c.embedded, c.env, c.current); got != c.want {
			t.Errorf("procsFor(%v, %q, %d) = %d, want %d", c.embedded, c.env, c.current, got, c.want)
		}
	}
}
