package routes

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/store"
)

func TestParseExpression(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, canonical string
	}{
		{`match_recipient(".*@bar.com")`, `match_recipient(".*@bar.com")`},
		{`match_recipient('^chris\+(.*)@example.com$')`, `match_recipient("^chris\+(.*)@example.com$")`},
		{`  catch_all( ) `, `catch_all()`},
		{`match_recipient('^(.*)@example.com$') and match_header("Content-Language", "^(.*)en-US(.*)$")`,
			`match_recipient("^(.*)@example.com$") and match_header("Content-Language", "^(.*)en-US(.*)$")`},
		{`match_header('subject', '(.*)(urgent|help|asap)(.*)') AND catch_all()`,
			`match_header("subject", "(.*)(urgent|help|asap)(.*)") and catch_all()`},
		{`match_header("X-Quote", 'say "hi"')`, `match_header("X-Quote", "say \"hi\"")`},
		{`match_header("X-Quote", "it\'s \\d")`, `match_header("X-Quote", "it\'s \\d")`},
		{`match_recipient("(?P<user>.*?)@(?P<domain>.*)")`, `match_recipient("(?P<user>.*?)@(?P<domain>.*)")`},
	} {
		e, err := ParseExpression(tc.in)
		if err != nil {
			t.Errorf("ParseExpression(%s): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.canonical {
			t.Errorf("ParseExpression(%s).String() = %s, want %s", tc.in, got, tc.canonical)
		}
	}
}

func TestParseExpressionErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		pos  int
		want string
	}{
		{``, 1, "empty"},
		{`match_recipent(".*")`, 1, `unknown filter "match_recipent"`},
		{`match_recipient(".*"`, 21, "expected ',' or ')'"},
		{`match_recipient(".*) and catch_all()`, 17, "not closed"},
		{`match_recipient(".*") or catch_all()`, 23, `expected "and"`},
		{`match_recipient(".*", "x")`, 1, "takes 1 argument(s), not 2"},
		{`match_header("subject")`, 1, "takes 2 argument(s)"},
		{`catch_all() and`, 16, "expected a name, found end of text"},
		{`match_recipient("(.*)@x\1")`, 24, "backreferences"},
		{`match_recipient("(?=x)y")`, 18, "lookahead"},
		{`match_recipient("a(b")`, 17, "missing closing )"},
		{`match_recipient(x)`, 17, "expected a quoted string"},
		{`match_recipient(".*") $`, 23, "unexpected character"},
		{`match_header("bad name", ".*")`, 14, "is not a header name"},
		{strings.Repeat("x", MaxText+1), MaxText + 1, "longer than 4096"},
	} {
		_, err := ParseExpression(tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseExpression(%.40s) = %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if se.Pos != tc.pos || !strings.Contains(se.Msg, tc.want) {
			t.Errorf("ParseExpression(%.40s) = %q at %d, want %q at %d", tc.in, se.Msg, se.Pos, tc.want, tc.pos)
		}
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ py, re2, err string }{
		{`(?P<user>.*?)@(?P<domain>.*)`, `(?P<user>.*?)@(?P<domain>.*)`, ""},
		{`a\Z`, `a\z`, ""},
		{`x{,3}`, `x{0,3}`, ""},
		{`(?#note)a`, `a`, ""},
		{`(?u)\w+`, `\w+`, ""},
		{`(?iu)a`, `(?i)a`, ""},
		{`(?i:a)b`, `(?i:a)b`, ""},
		{`[]a]`, `[\]a]`, ""},
		{`[^]a]`, `[^\]a]`, ""},
		{`\u00e9`, `\x{00e9}`, ""},
		{`(a)\1`, "", "backreferences"},
		{`(?P<x>a)(?P=x)`, "", "backreferences"},
		{`(?<!a)b`, "", "lookahead and lookbehind"},
		{`(?>a)`, "", "atomic"},
		{`a++`, "", "possessive"},
		{`(?x) a`, "", "x flag"},
		{`a\`, "", "lone backslash"},
	} {
		got, err := translate(tc.py)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("translate(%s) = %q, %v; want an error about %q", tc.py, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.re2 {
			t.Errorf("translate(%s) = %q, %v; want %q", tc.py, got, err, tc.re2)
		}
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Action
		err  string
	}{
		{`forward("http://myhost.com/messages/")`, Action{Kind: Forward, Dests: []string{"http://myhost.com/messages/"}}, ""},
		{`forward("a@example.com, https://h/p?m=\1", 'b@example.org')`,
			Action{Kind: Forward, Dests: []string{"a@example.com", `https://h/p?m=\1`, "b@example.org"}}, ""},
		{`forward("\g<user>@example.com")`, Action{Kind: Forward, Dests: []string{`\g<user>@example.com`}}, ""},
		{`store()`, Action{Kind: Store}, ""},
		{`store(notify="https://h/notify")`, Action{Kind: Store, Notify: "https://h/notify"}, ""},
		{` stop( ) `, Action{Kind: Stop}, ""},
		{`forward("ftp://h/x")`, Action{}, "is not an http:// or https:// URL"},
		{`forward("https://\1.example.com/x")`, Action{}, "capture in its host"},
		{`forward("not an address")`, Action{}, "neither an http(s) URL nor an email address"},
		{`forward("")`, Action{}, "needs a destination"},
		{`store(url="https://h")`, Action{}, "only notify"},
		{`stop("x")`, Action{}, "expected ')'"},
		{`drop()`, Action{}, "unknown action"},
		{`stop() stop()`, Action{}, "expected the end of the action"},
	} {
		got, err := ParseAction(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAction(%s) = %+v, %v; want an error about %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAction(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if again, err := ParseAction(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseAction(%s) does not read back: %+v, %v", got.String(), again, err)
		}
	}
}

// rt builds a compiled route; created orders routes of equal priority.
func rt(t *testing.T, id string, priority, created int, expr string, actions ...string) *Compiled {
	t.Helper()
	c, err := Compile(store.Route{ID: id, Priority: priority, Expression: expr, Actions: actions,
		CreatedAt: time.Unix(int64(created), 0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEvaluate is the route matching table: priorities, stop(),
// catch_all(), captures and "and".
func TestEvaluate(t *testing.T) {
	t.Parallel()
	support := rt(t, "support", 1, 1, `match_recipient("support@example.com")`, `forward("https://h/support")`)
	anyEx := rt(t, "any", 5, 2, `match_recipient(".*@example.com")`, `store()`)
	urgent := rt(t, "urgent", 0, 3, `match_recipient(".*@example.com") and match_header("subject", ".*(urgent|asap)")`,
		`forward("ops@example.org")`, `stop()`)
	plus := rt(t, "plus", 2, 4, `match_recipient("^chris\+(.*)@example.com$")`, `forward("https://h/tag/\1")`)
	named := rt(t, "named", 3, 5, `match_recipient("(?P<user>.*?)@(?P<domain>.*)")`,
		`forward("https://h/domains/\g<domain>/users/\g<user>?n=\g<1>")`)
	catchAll := rt(t, "catch", 9, 6, `catch_all()`, `forward("https://h/catch")`)
	catchEarly := rt(t, "early-catch", 0, 0, `catch_all()`, `store(notify="https://h/early")`)
	langEN := rt(t, "lang", 4, 7, `match_recipient('^(.*)@example.com$') and match_header("Content-Language", "^(.*)en-US(.*)$")`,
		`forward("https://h/en/\1/\2")`)
	other := rt(t, "other", 0, 8, `match_recipient(".*@other.org")`, `forward("https://h/other")`, `stop()`)

	all := []*Compiled{catchAll, named, support, plus, urgent, anyEx, langEN, other}
	Sort(all)
	hdr := func(kv ...string) [][2]string {
		var out [][2]string
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, [2]string{kv[i], kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		routes []*Compiled
		in     Input
		want   []string // route id: its actions, substituted
	}{
		{"priority order, every match", all, Input{Recipient: "support@example.com"},
			[]string{`support: forward("https://h/support")`,
				`named: forward("https://h/domains/example.com/users/support?n=support")`, `any: store()`}},
		{"recipient case does not matter", all, Input{Recipient: "Support@Example.COM"},
			[]string{`support: forward("https://h/support")`,
				`named: forward("https://h/domains/Example.COM/users/Support?n=Support")`, `any: store()`}},
		{"stop ends evaluation", all, Input{Recipient: "bob@example.com", Headers: hdr("Subject", "URGENT now", "subject", "please asap")},
			[]string{`urgent: forward("ops@example.org"); stop()`}},
		{"and needs both", all, Input{Recipient: "bob@other.org", Headers: hdr("Subject", "asap")},
			[]string{`other: forward("https://h/other"); stop()`}},
		{"positional captures", all, Input{Recipient: "chris+news@example.com"},
			[]string{`plus: forward("https://h/tag/news")`,
				`named: forward("https://h/domains/example.com/users/chris+news?n=chris+news")`, `any: store()`}},
		{"captures numbered across filters", all, Input{Recipient: "eve@example.com", Headers: hdr("Content-Language", "fr, en-US;q=0.8")},
			[]string{`named: forward("https://h/domains/example.com/users/eve?n=eve")`,
				`lang: forward("https://h/en/eve/fr, ")`, `any: store()`}},
		{"catch_all when nothing matched", all, Input{Recipient: "x@nowhere.net"},
			[]string{`named: forward("https://h/domains/nowhere.net/users/x?n=x")`}},
		{"catch_all alone", []*Compiled{support, catchAll}, Input{Recipient: "x@nowhere.net"},
			[]string{`catch: forward("https://h/catch")`}},
		{"catch_all not after a match", []*Compiled{support, catchAll}, Input{Recipient: "support@example.com"},
			[]string{`support: forward("https://h/support")`}},
		{"catch_all first matches, later routes still run", []*Compiled{catchEarly, support}, Input{Recipient: "support@example.com"},
			[]string{`early-catch: store(notify="https://h/early")`, `support: forward("https://h/support")`}},
		{"match_recipient is re.match: anchored at the start", []*Compiled{support}, Input{Recipient: "xsupport@example.com"}, nil},
		{"but not at the end", []*Compiled{support}, Input{Recipient: "support@example.com.au"},
			[]string{`support: forward("https://h/support")`}},
		{"header names any case, values case-sensitive", []*Compiled{urgent}, Input{Recipient: "a@example.com", Headers: hdr("SUBJECT", "Urgent")}, nil},
	} {
		var got []string
		for _, m := range Evaluate(tc.routes, tc.in) {
			var acts []string
			for _, a := range m.Actions {
				acts = append(acts, a.String())
			}
			got = append(got, m.Route.ID+": "+strings.Join(acts, "; "))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestActionURLs(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`forward("https://a.example/x, bob@b.example, http://c.example/")`: "https://a.example/x http://c.example/",
		`store(notify="https://n.example/")`:                               "https://n.example/",
		`store()`:                                                          "",
		`stop()`:                                                           "",
	} {
		a, err := ParseAction(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := strings.Join(a.URLs(), " "); got != want {
			t.Errorf("%s: URLs %q, want %q", src, got, want)
		}
	}
	if id := NewID(time.Unix(1700000000, 0)); len(id) != 24 || id[:8] != "6553f100" {
		t.Errorf("NewID = %q", id)
	}
}
