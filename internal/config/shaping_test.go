package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/config"
)

// TestValidateShaping: --shaping is read at start; a missing or bad file
// stops the node with the flag, its environment name and what is wrong
// (the line, the unknown key, the group); a good one is laid over the
// built-in groups.
func TestValidateShaping(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"missing", filepath.Join(dir, "none.toml"), []string{"none.toml", "no such file"}},
		{"syntax", write("syntax.toml", "[groups.x]\nmx = [\"*.x.test\"\nmax_connections = 2\n"), []string{"syntax.toml: line 3"}},
		{"unknown key", write("unknown.toml", "[groups.x]\nmx = [\"*.x.test\"]\nmax_conections = 2\n"), []string{"unknown setting groups.x.max_conections"}},
		{"bad duration", write("duration.toml", "[default]\nconnect_timeout = \"soon\"\n"), []string{`"soon" is not a duration`}},
		{"no mx", write("nomx.toml", "[groups.x]\nmax_connections = 2\n"), []string{"[groups.x]: mx is empty"}},
		{"bad pattern", write("pattern.toml", "[groups.x]\nmx = [\"mx.*.test\"]\n"), []string{`mx pattern "mx.*.test"`}},
		{"negative", write("negative.toml", "[groups.x]\nmx = [\"*.x.test\"]\nmax_messages_per_minute = -1\n"), []string{"max_messages_per_minute must not be negative"}},
		{"duplicate", write("dup.toml", "[groups.x]\nmx = [\"*.x.test\"]\n[groups.y]\nmx = [\"*.X.test.\"]\n"), []string{`"*.x.test" is also in [groups.x]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.Shaping = tc.path
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted a bad --shaping file")
			}
			for _, w := range append([]string{"--shaping (SALVO_SHAPING)"}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	c := config.Default()
	c.Shaping = write("good.toml", "[groups.x]\nmx = [\"*.x.test\"]\nmax_connections = 2\n")
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if g := c.ShapingConfig.Match("mx1.x.test"); g == nil || g.Name != "x" || g.MaxConnections != 2 {
		t.Fatalf("mx1.x.test matched %+v, want group x", g)
	}
	if g := c.ShapingConfig.Match("gmail-smtp-in.l.google.com"); g == nil || g.Name != "google" {
		t.Fatalf("the built-in google group is gone: %+v", g)
	}
}
