// Package routes parses and runs Mailgun's route language (docs/mailgun-contract.md §6.2,
// docs/mailgun-contract.md §6.3): filter expressions such as
//
//	match_recipient("(?P<user>.*)@example.com") and match_header("subject", ".*urgent")
//
// and actions such as forward("https://h/\g<user>"), store(notify="…") and
// stop().
//
// Semantics, where Mailgun's documentation leaves room:
//   - Patterns are Python regular expressions, translated to Go's RE2
//     (named groups (?P<x>…) work as written; what RE2 cannot do, such as
//     backreferences and lookarounds, is refused with a 400 at create time,
//     never silently changed). A pattern matches like Python's re.match:
//     anchored at the start of the text, not at its end.
//   - match_recipient compares case-insensitively (addresses are);
//     match_header compares the decoded value of every header of that
//     name, case-sensitively unless the pattern says (?i).
//   - Captures of every pattern of an expression are numbered in order
//     (\1, \2, … or \g<1>) and named captures are \g<name>; they are
//     substituted in action arguments. An unknown group becomes "".
//   - Routes run by ascending priority (then creation); every matching
//     route's actions run unless one of them was stop(). catch_all()
//     matches only when no earlier route matched.
//
// Errors are *SyntaxError values with a 1-based position, which the API
// turns into a 400.
package routes

import (
	"fmt"
	"strings"
)

// SyntaxError is an invalid expression or action, at Pos (1-based).
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Pos) }

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokLParen
	tokRParen
	tokComma
	tokEquals
)

func (k tokKind) String() string {
	return [...]string{"end of text", "a name", "a quoted string", "'('", "')'", "','", "'='"}[k]
}

type token struct {
	kind tokKind
	text string // identifier, or string contents
	pos  int    // 1-based
}

// lexer splits route text into tokens. Strings take single or double
// quotes; inside one, a backslash escapes the quote and any other
// backslash pair is kept as written, so regular expressions keep their
// escapes (\d, \+, \\).
type lexer struct {
	s   string
	i   int
	tok token
}

func newLexer(s string) (*lexer, error) {
	l := &lexer{s: s}
	return l, l.next()
}

func (l *lexer) errf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// next reads the next token into l.tok.
func (l *lexer) next() error {
	for l.i < len(l.s) && strings.IndexByte(" \t\r\n", l.s[l.i]) >= 0 {
		l.i++
	}
	start := l.i + 1
	if l.i >= len(l.s) {
		l.tok = token{kind: tokEOF, pos: start}
		return nil
	}
	c := l.s[l.i]
	switch {
	case c == '(' || c == ')' || c == ',' || c == '=':
		l.i++
		l.tok = token{kind: map[byte]tokKind{'(': tokLParen, ')': tokRParen, ',': tokComma, '=': tokEquals}[c], pos: start}
	case c == '"' || c == '\'':
		s, err := l.quoted(c)
		if err != nil {
			return err
		}
		l.tok = token{kind: tokString, text: s, pos: start}
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		j := l.i
		for j < len(l.s) && (l.s[j] == '_' || l.s[j] >= 'a' && l.s[j] <= 'z' || l.s[j] >= 'A' && l.s[j] <= 'Z' || l.s[j] >= '0' && l.s[j] <= '9') {
			j++
		}
		l.tok = token{kind: tokIdent, text: l.s[l.i:j], pos: start}
		l.i = j
	default:
		return l.errf(start, "unexpected character %q", c)
	}
	return nil
}

func (l *lexer) quoted(q byte) (string, error) {
	open := l.i + 1
	var b strings.Builder
	for j := l.i + 1; j < len(l.s); j++ {
		c := l.s[j]
		if c == q {
			l.i = j + 1
			return b.String(), nil
		}
		if c == '\\' && j+1 < len(l.s) {
			// A backslash and the next character go together: \<quote> is
			// the quote, anything else stays as written (\d, \\, \+).
			if n := l.s[j+1]; n == q {
				b.WriteByte(q)
			} else {
				b.WriteByte(c)
				b.WriteByte(n)
			}
			j++
			continue
		}
		b.WriteByte(c)
	}
	return "", l.errf(open, "string is not closed (missing %c)", q)
}

// expect consumes a token of kind k or fails naming what was found.
func (l *lexer) expect(k tokKind) (token, error) {
	t := l.tok
	if t.kind != k {
		return t, l.errf(t.pos, "expected %s, found %s", k, describe(t))
	}
	return t, l.next()
}

func describe(t token) string {
	switch t.kind {
	case tokIdent:
		return fmt.Sprintf("%q", t.text)
	case tokString:
		return "a quoted string"
	}
	return t.kind.String()
}

// quote writes s as a quoted route string that lexes back to s, in double
// quotes unless s needs single ones.
func quote(s string) string {
	if t, ok := quoteWith(s, '"'); ok {
		return t
	}
	t, _ := quoteWith(s, '\'')
	return t
}

func quoteWith(s string, q byte) (string, bool) {
	b := []byte{q}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			if s[i+1] == q {
				return "", false // \<q> would read back as a bare quote
			}
			b = append(b, c, s[i+1])
			i++
		case c == '\\':
			return "", false // a lone final backslash would escape the closing quote
		case c == q:
			b = append(b, '\\', q)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, q)), true
}
