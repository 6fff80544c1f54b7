package shaping

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBuiltin: the built-in configuration parses and sends the big
// providers' MX hosts to their groups, anything else to the default.
func TestBuiltin(t *testing.T) {
	t.Parallel()
	c := Builtin()
	for host, want := range map[string]string{
		"gmail-smtp-in.l.google.com.":             "google",
		"ASPMX.L.GOOGLE.COM":                      "google",
		"alt1.gmail-smtp-in.l.googlemail.com":     "google",
		"example-com.mail.protection.outlook.com": "microsoft",
		"outlook-com.olc.protection.outlook.com":  "microsoft",
		"mta5.am0.yahoodns.net":                   "yahoo",
		"mx01.mail.icloud.com":                    "apple",
		"mx00.gmx.net":                            "gmx-webde",
		"mx-ha02.web.de":                          "gmx-webde",
		"mxs.mail.ru":                             "mailru",
		"mx.yandex.net":                           "yandex",
		"mx1a1.comcast.net":                       "comcast",
		"smtp-in.orange.fr":                       "orange",
		"us-smtp-inbound-1.mimecast.com":          "mimecast",
		"google.com.evil.example":                 "",
		"notgoogle.com":                           "",
		"mx.example.org":                          "",
	} {
		g := c.Match(host)
		got := ""
		if g != nil {
			got = g.Name
		}
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", host, got, want)
		}
	}
	l := c.Resolve(c.Match("aspmx.l.google.com"), "", Limits{MaxMessagesPerConnection: 100, CommandTimeout: Duration(5 * time.Minute)})
	if l.MaxConnections != 5 || l.MaxMessagesPerConnection != 50 || l.CommandTimeout != Duration(5*time.Minute) ||
		l.ThrottleBackoff != Duration(5*time.Minute) || l.MinMessagesPerMinute != 10 {
		t.Fatalf("google limits = %+v", l)
	}
}

// TestParseOverlay: a file's groups join the built-in ones, a pattern it
// claims leaves the built-in group, a source address overrides its group,
// nodes divides the limits, and builtin = false drops the built-ins.
func TestParseOverlay(t *testing.T) {
	t.Parallel()
	c, err := Parse(`
nodes = 3
[default]
max_messages_per_connection = 40
[groups.gmail-only]
mx = ["*.l.google.com", "exact.example.net"]
max_connections = 7
max_messages_per_minute = 100
[groups.gmail-only.sources."192.0.2.7"]
max_connections = 1
command_timeout = "20s"
`, "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Match("gmail-smtp-in.l.google.com"); g == nil || g.Name != "gmail-only" {
		t.Fatalf("the file's longer pattern does not win: %+v", g)
	}
	if g := c.Match("smtp.google.com"); g == nil || g.Name != "google" {
		t.Fatalf("the built-in group lost its other hosts: %+v", g)
	}
	if g := c.Match("exact.example.net"); g == nil || g.Name != "gmail-only" {
		t.Fatalf("exact host: %+v", g)
	}
	if g := c.Match("a.exact.example.net"); g != nil {
		t.Fatalf("an exact pattern matched a sub-host: %+v", g)
	}
	g := c.Match("x.l.google.com")
	if l := c.Resolve(g, "192.0.2.9", Limits{}); l.MaxConnections != 3 || l.MaxMessagesPerMinute != 34 || l.MaxMessagesPerConnection != 40 {
		t.Fatalf("group limits split over 3 nodes = %+v, want 3 connections, 34/min, 40 per connection", l)
	}
	if l := c.Resolve(g, "192.0.2.7", Limits{}); l.MaxConnections != 1 || l.CommandTimeout != Duration(20*time.Second) {
		t.Fatalf("source override = %+v", l)
	}

	c, err = Parse("builtin = false\n[groups.a]\nmx = [\"*.a.test\"]\n", "only.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Match("aspmx.l.google.com") != nil || c.Match("mx.a.test") == nil {
		t.Fatalf("builtin = false kept the built-in groups: %v", c.GroupNames())
	}
	if _, err := Parse("builtin = false\n[groups.a]\nmx = [\"*\"]\n", "star.toml"); err == nil || !strings.Contains(err.Error(), "star.toml") {
		t.Fatalf("a bare * was accepted: %v", err)
	}
	if _, err := Parse("[groups.a]\nmx = [\"*.a.test\"]\n[groups.a.sources.\"mail.example.com\"]\nmax_connections = 1\n", "src.toml"); err == nil ||
		!strings.Contains(err.Error(), `sources."mail.example.com" is not an IP address`) {
		t.Fatalf("a source that is not an address was accepted: %v", err)
	}
	c, err = Parse("[groups.a]\nmx = [\"*.a.test\"]\n[groups.a.sources.\"2001:DB8::0:1\"]\nmax_connections = 1\n", "v6.toml")
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Resolve(c.Match("mx.a.test"), "2001:db8::1", Limits{}); l.MaxConnections != 1 {
		t.Fatalf("an IPv6 source written another way does not apply: %+v", l)
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestAcquireConcurrent: however many goroutines ask, no more than
// max_connections slots of one key are held at once, and every waiter
// gets one in the end; other keys are not held up.
func TestAcquireConcurrent(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1e9, 0)}
	l := NewLimiter(nil, Limits{}, clk.Now)
	k, lim := l.Key("aspmx.l.google.com", "gmail.com", "192.0.2.1")
	if lim.MaxConnections != 5 {
		t.Fatalf("google max connections = %d", lim.MaxConnections)
	}
	var held, most, done atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, ok := l.Acquire(context.Background(), k, lim, nil)
			if !ok {
				t.Error("Acquire failed")
				return
			}
			n := held.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			held.Add(-1)
			release()
			release() // a second release is a no-op
			done.Add(1)
		}()
	}
	// Another source address has its own slots.
	other, olim := l.Key("aspmx.l.google.com", "gmail.com", "192.0.2.2")
	if r, ok := l.Acquire(context.Background(), other, olim, nil); !ok {
		t.Fatal("another source waited")
	} else {
		r()
	}
	wg.Wait()
	if most.Load() > 5 || done.Load() != 50 {
		t.Fatalf("held at most %d at once (want ≤ 5), %d of 50 done", most.Load(), done.Load())
	}
	if most.Load() < 2 {
		t.Fatalf("slots were never shared: at most %d", most.Load())
	}

	// A waiter gives up when stop closes.
	var rs []func()
	for range 5 {
		r, _ := l.Acquire(context.Background(), k, lim, nil)
		rs = append(rs, r)
	}
	stop := make(chan struct{})
	close(stop)
	if _, ok := l.Acquire(context.Background(), k, lim, stop); ok {
		t.Fatal("a sixth slot was given")
	}
	for _, r := range rs {
		r()
	}
}

// TestRates: the minute bucket holds ten seconds' worth and refills at
// the rate; the hour bucket a minute's worth; the earliest time is given.
func TestRates(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1e9, 0)}
	c, err := Parse("builtin = false\n[groups.r]\nmx = [\"*.r.test\"]\nmax_messages_per_minute = 60\nmax_messages_per_hour = 120\n", "r.toml")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(c, Limits{}, clk.Now)
	k, lim := l.Key("mx.r.test", "r.test", "")
	took := 0
	for {
		ok, at := l.Take(k, lim)
		if !ok {
			if took != 2 || !at.Equal(clk.Now().Add(30*time.Second)) {
				t.Fatalf("took %d, next at %s: want 2 (the hour bucket's minute of 120/h), next in 30s", took, at.Sub(clk.Now()))
			}
			break
		}
		took++
	}
	clk.Advance(30 * time.Second)
	if ok, _ := l.Take(k, lim); !ok {
		t.Fatal("no token after 30s at 120/h")
	}

	c, _ = Parse("builtin = false\n[groups.r]\nmx = [\"*.r.test\"]\nmax_messages_per_minute = 60\n", "r.toml")
	l = NewLimiter(c, Limits{}, clk.Now)
	took = 0
	for ok := true; ok; {
		if ok, _ = l.Take(k, lim2(l)); ok {
			took++
		}
	}
	if took != 10 {
		t.Fatalf("a full 60/min bucket gave %d, want 10", took)
	}
	clk.Advance(3 * time.Second)
	for range 3 {
		if ok, _ := l.Take(k, lim2(l)); !ok {
			t.Fatal("60/min did not refill one a second")
		}
	}
	if ok, at := l.Take(k, lim2(l)); ok || !at.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("Take = %v at %s, want none for a second", ok, at.Sub(clk.Now()))
	}
}

func lim2(l *Limiter) Limits { _, lim := l.Key("mx.r.test", "r.test", ""); return lim }

// TestThrottleAndRecover: a throttle pauses the key, halves its rate
// (configured, or what it sent when none is), never under the floor;
// each recover_every of deliveries adds a tenth back until the target.
func TestThrottleAndRecover(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1e9, 0)}
	c, err := Parse(`
[groups.r]
mx = ["*.r.test"]
max_messages_per_minute = 100
throttle_backoff = "1m"
recover_every = "1m"
`, "r.toml")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(c, Limits{}, clk.Now)
	k, lim := l.Key("mx.r.test", "r.test", "")
	l.Throttled(k, lim, "throttled by mx.r.test: 421 4.7.0 slow down")
	if ok, at := l.Take(k, lim); ok || !at.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("Take during the pause = %v, %s", ok, at)
	}
	s := l.States()[0]
	if s.State != "paused" || s.CurrentMessagesPerMinute != 50 || s.Throttles != 1 || !strings.Contains(s.Reason, "421 4.7.0 slow down") {
		t.Fatalf("state = %+v", s)
	}
	l.Throttled(k, lim, "again")
	if s := l.States()[0]; s.CurrentMessagesPerMinute != 25 {
		t.Fatalf("second throttle: %g/min, want 25", s.CurrentMessagesPerMinute)
	}
	clk.Advance(time.Minute) // pause over, recovery starts now
	l.Delivered(k, lim)
	if s := l.States()[0]; s.State != "recovering" || s.CurrentMessagesPerMinute != 25 {
		t.Fatalf("right after the pause: %+v", s)
	}
	clk.Advance(3 * time.Minute)
	l.Delivered(k, lim)
	if s := l.States()[0]; s.CurrentMessagesPerMinute != 55 {
		t.Fatalf("after 3 minutes of deliveries: %g/min, want 25+3*10", s.CurrentMessagesPerMinute)
	}
	clk.Advance(10 * time.Minute)
	l.Delivered(k, lim)
	if s := l.States()[0]; s.State != "normal" || s.CurrentMessagesPerMinute != 100 || !strings.Contains(s.Reason, "recovered") {
		t.Fatalf("after 10 more minutes: %+v, want back at 100", s)
	}

	// No rate configured (the default group): half of what was sent in
	// the last minute, at least the floor (10/min built in).
	d, dlim := l.Key("mx.other.test", "other.test", "")
	for range 60 {
		if ok, _ := l.Take(d, dlim); !ok {
			t.Fatal("the default group has no rate")
		}
	}
	l.Throttled(d, dlim, "busy")
	for _, s := range l.States() {
		if s.Group == "default" && s.CurrentMessagesPerMinute != 30 {
			t.Fatalf("default group after sending 60: %+v, want 30/min", s)
		}
	}
	d2, d2lim := l.Key("mx.quiet.test", "quiet.test", "")
	l.Throttled(d2, d2lim, "busy")
	for _, s := range l.States() {
		if s.Destination == "quiet.test" && s.CurrentMessagesPerMinute != 10 {
			t.Fatalf("a quiet destination throttled: %+v, want the 10/min floor", s)
		}
	}
}
