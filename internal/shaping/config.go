// Package shaping is outbound traffic shaping per mailbox provider (issue
// 17 §2): a configuration that groups destinations by the host names of
// their MX servers and sets, per group and per source address, how many
// connections may be open at once, how many messages one connection may
// carry, how many messages may leave per minute and per hour and the
// connect and command timeouts; and the limiter (limiter.go) that enforces
// it on a node and adapts it when a provider asks to slow down.
//
// It depends on nothing of Salvo's, so config may load it at start.
package shaping

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Limits are the settings of a group, or of one source address within a
// group. Zero means "not set here": a source's unset values come from its
// group, a group's from the default group, and the default group's from
// the engine (--per-destination, 100 messages per connection,
// --connect-timeout, 5 minutes) or, for rates, no limit.
type Limits struct {
	MaxConnections           int      `toml:"max_connections"`
	MaxMessagesPerConnection int      `toml:"max_messages_per_connection"`
	MaxMessagesPerMinute     int      `toml:"max_messages_per_minute"`
	MaxMessagesPerHour       int      `toml:"max_messages_per_hour"`
	ConnectTimeout           Duration `toml:"connect_timeout"`
	CommandTimeout           Duration `toml:"command_timeout"`
	// ThrottleBackoff is how long a group and source address send nothing
	// after a reply asking to slow down (421, 4.7.x rate / volume).
	ThrottleBackoff Duration `toml:"throttle_backoff"`
	// RecoverEvery is how often a lowered rate goes up again by a tenth
	// of its configured value (additive increase) while deliveries succeed.
	RecoverEvery Duration `toml:"recover_every"`
	// MinMessagesPerMinute is the floor the adaptive rate never goes under.
	MinMessagesPerMinute int `toml:"min_messages_per_minute"`
}

// Duration is a time.Duration written as Go writes one ("90s", "5m").
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Group is a mailbox provider: the MX host patterns that identify it and
// its limits, with overrides per source address.
type Group struct {
	Name string `toml:"-"`
	// MX are host name patterns: "*.google.com" matches every host under
	// google.com, "mx.example.com" that host only.
	MX []string `toml:"mx"`
	Limits
	Sources map[string]Limits `toml:"sources"`
}

// Config is a whole shaping configuration.
type Config struct {
	// Builtin keeps the built-in provider groups (default true); a file's
	// group of the same name replaces the built-in one.
	Builtin *bool `toml:"builtin"`
	// Nodes is how many nodes send through the same source addresses (a
	// shared NAT address): each node enforces 1/Nodes of every connection
	// and rate limit (rounded up). Default 1: limits are per node, which is
	// exact when every node has its own --source-ips.
	Nodes   int               `toml:"nodes"`
	Default Limits            `toml:"default"`
	Groups  map[string]*Group `toml:"groups"`

	// byPattern maps each pattern to its group (built by check).
	patterns []pattern
}

type pattern struct {
	suffix string // ".google.com" for "*.google.com"
	exact  string // "mx.example.com"
	group  *Group
}

//go:embed default.toml
var builtinTOML string

// Builtin is the built-in configuration (default.toml).
func Builtin() *Config {
	c, err := parse(builtinTOML, "built-in shaping")
	if err != nil {
		panic(err) // tested: TestBuiltin
	}
	return c
}

// Load reads a shaping file ("" is the built-in configuration alone). The
// file's default limits and groups are laid over the built-in ones unless
// it says builtin = false.
func Load(path string) (*Config, error) {
	if path == "" {
		return Builtin(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(b), path)
}

// Parse reads a shaping configuration from text (name is for errors) and
// lays it over the built-in one unless it says builtin = false.
func Parse(text, name string) (*Config, error) {
	c, err := parse(text, name)
	if err != nil {
		return nil, err
	}
	if c.Builtin != nil && !*c.Builtin {
		return c, nil
	}
	base := Builtin()
	base.Default = over(base.Default, c.Default)
	for n, g := range c.Groups {
		base.Groups[n] = g
	}
	// A pattern a file group lists leaves the built-in group that had it.
	claimed := map[string]bool{}
	for _, g := range c.Groups {
		for _, p := range g.MX {
			claimed[normPattern(p)] = true
		}
	}
	for n, g := range base.Groups {
		if c.Groups[n] == g {
			continue
		}
		kept := g.MX[:0]
		for _, p := range g.MX {
			if !claimed[normPattern(p)] {
				kept = append(kept, p)
			}
		}
		if g.MX = kept; len(kept) == 0 {
			delete(base.Groups, n)
		}
	}
	if c.Nodes != 0 {
		base.Nodes = c.Nodes
	}
	if err := base.check(name); err != nil {
		return nil, err
	}
	return base, nil
}

func parse(text, name string) (*Config, error) {
	var c Config
	md, err := toml.Decode(text, &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: line %d: %s", name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown setting %s (see docs/shaping.md)", name, strings.Join(keys, ", "))
	}
	if c.Groups == nil {
		c.Groups = map[string]*Group{}
	}
	if err := c.check(name); err != nil {
		return nil, err
	}
	return &c, nil
}

// check validates c and builds its pattern table.
func (c *Config) check(name string) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if c.Nodes < 0 {
		bad("nodes must be at least 1")
	}
	checkLimits := func(where string, l Limits) {
		for _, v := range []struct {
			key string
			n   int
		}{{"max_connections", l.MaxConnections}, {"max_messages_per_connection", l.MaxMessagesPerConnection},
			{"max_messages_per_minute", l.MaxMessagesPerMinute}, {"max_messages_per_hour", l.MaxMessagesPerHour},
			{"min_messages_per_minute", l.MinMessagesPerMinute}} {
			if v.n < 0 {
				bad("%s: %s must not be negative", where, v.key)
			}
		}
		for _, v := range []struct {
			key string
			d   Duration
		}{{"connect_timeout", l.ConnectTimeout}, {"command_timeout", l.CommandTimeout},
			{"throttle_backoff", l.ThrottleBackoff}, {"recover_every", l.RecoverEvery}} {
			if v.d < 0 {
				bad("%s: %s must not be negative", where, v.key)
			}
		}
	}
	checkLimits("[default]", c.Default)
	c.patterns = nil
	seen := map[string]string{}
	names := make([]string, 0, len(c.Groups))
	for n := range c.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := c.Groups[n]
		if g == nil {
			bad("[groups.%s] is empty", n)
			continue
		}
		g.Name = n
		where := "[groups." + n + "]"
		checkLimits(where, g.Limits)
		if len(g.MX) == 0 {
			bad("%s: mx is empty: list MX host patterns such as \"*.google.com\"", where)
		}
		for _, p := range g.MX {
			p = normPattern(p)
			var pt pattern
			switch {
			case strings.HasPrefix(p, "*.") && len(p) > 2 && !strings.Contains(p[2:], "*"):
				pt.suffix = p[1:]
			case p != "" && !strings.Contains(p, "*"):
				pt.exact = p
			default:
				bad("%s: mx pattern %q: want a host name or *.suffix", where, p)
				continue
			}
			if other, dup := seen[p]; dup {
				bad("%s: mx pattern %q is also in [groups.%s]", where, p, other)
				continue
			}
			seen[p] = n
			pt.group = g
			c.patterns = append(c.patterns, pt)
		}
		canon := make(map[string]Limits, len(g.Sources))
		for src, l := range g.Sources {
			checkLimits(where+" sources."+src, l)
			a, err := netip.ParseAddr(strings.TrimSpace(src))
			if err != nil {
				bad("%s: sources.%q is not an IP address (one of --source-ips)", where, src)
				continue
			}
			canon[a.Unmap().String()] = l
		}
		g.Sources = canon
	}
	// The longest (most specific) pattern wins.
	sort.SliceStable(c.patterns, func(i, j int) bool {
		return len(c.patterns[i].suffix)+len(c.patterns[i].exact) > len(c.patterns[j].suffix)+len(c.patterns[j].exact)
	})
	return errors.Join(errs...)
}

func normPattern(p string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(p), "."))
}

// Match returns the group of an MX host name (nil: the default group).
func (c *Config) Match(host string) *Group {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range c.patterns {
		if p.exact != "" && host == p.exact || p.suffix != "" && strings.HasSuffix(host, p.suffix) {
			return p.group
		}
	}
	return nil
}

// over lays the set values of top over base.
func over(base, top Limits) Limits {
	set := func(b *int, t int) {
		if t != 0 {
			*b = t
		}
	}
	setD := func(b *Duration, t Duration) {
		if t != 0 {
			*b = t
		}
	}
	set(&base.MaxConnections, top.MaxConnections)
	set(&base.MaxMessagesPerConnection, top.MaxMessagesPerConnection)
	set(&base.MaxMessagesPerMinute, top.MaxMessagesPerMinute)
	set(&base.MaxMessagesPerHour, top.MaxMessagesPerHour)
	set(&base.MinMessagesPerMinute, top.MinMessagesPerMinute)
	setD(&base.ConnectTimeout, top.ConnectTimeout)
	setD(&base.CommandTimeout, top.CommandTimeout)
	setD(&base.ThrottleBackoff, top.ThrottleBackoff)
	setD(&base.RecoverEvery, top.RecoverEvery)
	return base
}

// Resolve is the limits for group g (nil: default) and source address src
// ("" when the kernel chooses), with the engine's values for what is
// unset anywhere (engine) and the node split applied.
func (c *Config) Resolve(g *Group, src string, engine Limits) Limits {
	l := over(engine, c.Default)
	if g != nil {
		l = over(l, g.Limits)
		if s, ok := g.Sources[src]; ok && src != "" {
			l = over(l, s)
		}
	}
	if n := c.Nodes; n > 1 {
		div := func(v *int) {
			if *v > 0 {
				*v = max(1, (*v+n-1)/n)
			}
		}
		div(&l.MaxConnections)
		div(&l.MaxMessagesPerMinute)
		div(&l.MaxMessagesPerHour)
	}
	return l
}

// GroupNames lists the configured groups, sorted.
func (c *Config) GroupNames() []string {
	out := make([]string, 0, len(c.Groups))
	for n := range c.Groups {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
