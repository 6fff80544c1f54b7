package routes

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/salvo-email/salvo/internal/store"
)

// Compiled is a route ready to run.
type Compiled struct {
	Route   store.Route
	Expr    *Expr
	Actions []Action
}

// Compile parses a stored route. The API checks routes before storing
// them, so an error here means the store holds something this version
// cannot read.
func Compile(r store.Route) (*Compiled, error) {
	e, err := ParseExpression(r.Expression)
	if err != nil {
		return nil, fmt.Errorf("route %s: expression: %w", r.ID, err)
	}
	c := &Compiled{Route: r, Expr: e}
	for i, s := range r.Actions {
		a, err := ParseAction(s)
		if err != nil {
			return nil, fmt.Errorf("route %s: action %d: %w", r.ID, i+1, err)
		}
		c.Actions = append(c.Actions, a)
	}
	return c, nil
}

// Load reads and compiles every route, in evaluation order. A stored
// route that no longer compiles is logged and skipped, not fatal.
func Load(ctx context.Context, st store.RouteStore, log *slog.Logger) ([]*Compiled, error) {
	var out []*Compiled
	for skip := 0; ; skip += 1000 {
		rs, total, err := st.Routes(ctx, skip, 1000)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			c, err := Compile(r)
			if err != nil {
				log.Error("stored route does not compile; skipped", "route", r.ID, "err", err)
				continue
			}
			out = append(out, c)
		}
		if len(rs) == 0 || skip+len(rs) >= total {
			return out, nil
		}
	}
}

// Owned returns the routes of all that belong to account (store.Route's
// AccountID: "" for the primary account), in the same order. A message
// to a domain is routed by its domain's account's routes only.
func Owned(all []*Compiled, account string) []*Compiled {
	out := make([]*Compiled, 0, len(all))
	for _, c := range all {
		if c.Route.AccountID == account {
			out = append(out, c)
		}
	}
	return out
}

// Input is what routes look at for one recipient of a message.
type Input struct {
	Recipient string
	// Headers are the message's header fields in order, values decoded.
	Headers [][2]string
}

// Match is a route that matched, with its actions' captures substituted.
type Match struct {
	Route   store.Route
	Actions []Action
}

// Evaluate runs routes (in evaluation order: priority, then creation) for
// one recipient and returns the matching ones in order. A stop() action
// ends the evaluation after its route; catch_all() matches only when no
// earlier route matched.
func Evaluate(rs []*Compiled, in Input) []Match {
	var out []Match
	for _, c := range rs {
		caps, ok := c.Expr.eval(in, len(out) > 0)
		if !ok {
			continue
		}
		m := Match{Route: c.Route}
		stop := false
		for _, a := range c.Actions {
			m.Actions = append(m.Actions, caps.apply(a))
			stop = stop || a.Kind == Stop
		}
		out = append(out, m)
		if stop {
			break
		}
	}
	return out
}

// Sort puts routes in evaluation order (the store already lists them so;
// this is for callers holding them in another order).
func Sort(rs []*Compiled) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].Route, rs[j].Route
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
}

// captures are the groups of every pattern of an expression: numbered in
// order across patterns, and by name.
type captures struct {
	numbered []string
	named    map[string]string
}

// eval reports whether every filter matches, and the captures.
func (e *Expr) eval(in Input, matchedBefore bool) (captures, bool) {
	var caps captures
	for _, f := range e.Filters {
		switch f.Kind {
		case CatchAll:
			if matchedBefore {
				return caps, false
			}
		case MatchRecipient:
			if !caps.match(f, in.Recipient) {
				return caps, false
			}
		case MatchHeader:
			ok := false
			for _, h := range in.Headers {
				if strings.EqualFold(h[0], f.Header) && caps.match(f, h[1]) {
					ok = true
					break
				}
			}
			if !ok {
				return caps, false
			}
		}
	}
	return caps, true
}

func (c *captures) match(f Filter, text string) bool {
	m := f.re.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	for i, name := range f.re.SubexpNames() {
		if i == 0 {
			continue
		}
		c.numbered = append(c.numbered, m[i])
		if name != "" {
			if c.named == nil {
				c.named = map[string]string{}
			}
			c.named[name] = m[i]
		}
	}
	return true
}

// expand substitutes \1…\9, \g<n> and \g<name> in s.
func (c captures) expand(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(ref string) string {
		sub := placeholder.FindStringSubmatch(ref)
		key := sub[1]
		if key == "" {
			key = sub[2]
		}
		if n, err := strconv.Atoi(key); err == nil {
			if n >= 1 && n <= len(c.numbered) {
				return c.numbered[n-1]
			}
			return ""
		}
		return c.named[key]
	})
}

func (c captures) apply(a Action) Action {
	out := Action{Kind: a.Kind, Notify: c.expand(a.Notify)}
	for _, d := range a.Dests {
		out.Dests = append(out.Dests, c.expand(d))
	}
	return out
}
