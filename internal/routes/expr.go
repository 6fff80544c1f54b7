package routes

import (
	"errors"
	"regexp"
	"strings"
)

// MaxText bounds an expression or an action (Mailgun: 4 KB each).
const MaxText = 4096

// Filter kinds.
const (
	MatchRecipient = "match_recipient"
	MatchHeader    = "match_header"
	CatchAll       = "catch_all"
)

// Filter is one call of an expression.
type Filter struct {
	Kind    string
	Header  string // match_header only
	Pattern string // as written (Python syntax)
	re      *regexp.Regexp
}

// Expr is a parsed expression: filters joined by "and".
type Expr struct {
	Filters []Filter
}

// CatchAll reports whether the expression contains catch_all().
func (e *Expr) CatchAll() bool {
	for _, f := range e.Filters {
		if f.Kind == CatchAll {
			return true
		}
	}
	return false
}

// String is the canonical text of e; it parses back to the same filters.
func (e *Expr) String() string {
	parts := make([]string, len(e.Filters))
	for i, f := range e.Filters {
		switch f.Kind {
		case CatchAll:
			parts[i] = "catch_all()"
		case MatchHeader:
			parts[i] = "match_header(" + quote(f.Header) + ", " + quote(f.Pattern) + ")"
		default:
			parts[i] = "match_recipient(" + quote(f.Pattern) + ")"
		}
	}
	return strings.Join(parts, " and ")
}

// ParseExpression parses a route filter expression (docs/mailgun-contract.md §6.2).
func ParseExpression(s string) (*Expr, error) {
	if len(s) > MaxText {
		return nil, &SyntaxError{Pos: MaxText + 1, Msg: "expression is longer than 4096 characters"}
	}
	l, err := newLexer(s)
	if err != nil {
		return nil, err
	}
	if l.tok.kind == tokEOF {
		return nil, l.errf(1, "expression is empty")
	}
	e := &Expr{}
	for {
		f, err := parseFilter(l)
		if err != nil {
			return nil, err
		}
		e.Filters = append(e.Filters, f)
		if l.tok.kind == tokEOF {
			return e, nil
		}
		if l.tok.kind != tokIdent || !strings.EqualFold(l.tok.text, "and") {
			return nil, l.errf(l.tok.pos, "expected \"and\" or the end of the expression, found %s", describe(l.tok))
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
}

// parseFilter reads name(args).
func parseFilter(l *lexer) (Filter, error) {
	name, err := l.expect(tokIdent)
	if err != nil {
		return Filter{}, err
	}
	kind := strings.ToLower(name.text)
	var want int
	switch kind {
	case MatchRecipient:
		want = 1
	case MatchHeader:
		want = 2
	case CatchAll:
		want = 0
	default:
		return Filter{}, l.errf(name.pos, "unknown filter %q: use match_recipient, match_header or catch_all", name.text)
	}
	args, err := parseStringArgs(l)
	if err != nil {
		return Filter{}, err
	}
	if len(args) != want {
		return Filter{}, l.errf(name.pos, "%s takes %d argument(s), not %d", kind, want, len(args))
	}
	f := Filter{Kind: kind}
	if kind == CatchAll {
		return f, nil
	}
	pat := args[len(args)-1]
	f.Pattern = pat.text
	if kind == MatchHeader {
		f.Header = args[0].text
		if f.Header == "" || strings.ContainsAny(f.Header, " \t:") {
			return Filter{}, l.errf(args[0].pos, "%q is not a header name", f.Header)
		}
	}
	if f.re, err = compile(f.Pattern, kind == MatchRecipient); err != nil {
		return Filter{}, l.errf(pat.pos+patternOffset(err), "%s", err.Error())
	}
	return f, nil
}

// patternOffset is where a translation error points inside the pattern
// (the +1 skips the opening quote).
func patternOffset(err error) int {
	var pe *patternError
	if errors.As(err, &pe) {
		return pe.off + 1
	}
	return 0
}

// parseStringArgs reads "(" [string {"," string}] ")".
func parseStringArgs(l *lexer) ([]token, error) {
	if _, err := l.expect(tokLParen); err != nil {
		return nil, err
	}
	var args []token
	for l.tok.kind != tokRParen {
		if len(args) > 0 {
			if l.tok.kind != tokComma {
				return nil, l.errf(l.tok.pos, "expected ',' or ')', found %s", describe(l.tok))
			}
			if err := l.next(); err != nil {
				return nil, err
			}
		}
		t, err := l.expect(tokString)
		if err != nil {
			return nil, err
		}
		args = append(args, t)
	}
	return args, l.next()
}
