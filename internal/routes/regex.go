package routes

import (
	"fmt"
	"regexp"
	"strings"
)

// translate rewrites a Python regular expression into Go's RE2 syntax.
// Most of the two languages agree ((?P<name>…), classes, quantifiers,
// \d\w\s\b, (?i)); this handles where they differ:
//   - \Z (end of text) is \z; \uXXXX and \UXXXXXXXX are \x{…}; {,n} is {0,n};
//   - (?#…) comments are dropped; the inline flag u (Python 3's default)
//     is dropped because in Go it would mean "ungreedy", a is dropped
//     because Go's \w and \d are ASCII already;
//   - backreferences (\1, (?P=x)), lookarounds, atomic groups, possessive
//     quantifiers, conditionals and the x, L flags have no RE2 equivalent
//     and are refused.
//
// Errors give a 0-based offset in the pattern.
func translate(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			n, err := translateEscape(&b, p, i, inClass)
			if err != nil {
				return "", err
			}
			i += n
		case inClass:
			b.WriteByte(c)
			if c == ']' {
				inClass = false
			}
		case c == '[':
			b.WriteByte(c)
			inClass = true
			// A ] right after [ or [^ is a literal member.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '(' && i+1 < len(p) && p[i+1] == '?':
			n, err := translateGroup(&b, p, i)
			if err != nil {
				return "", err
			}
			i += n
		case c == '{' && strings.HasPrefix(p[i:], "{,"):
			b.WriteString("{0,")
			i++
		case (c == '+' || c == '*' || c == '?' || c == '}') && i+1 < len(p) && p[i+1] == '+':
			return "", patternErr(i+1, "possessive quantifiers are not supported")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

type patternError struct {
	off int
	msg string
}

func (e *patternError) Error() string {
	return fmt.Sprintf("%s (offset %d in the pattern)", e.msg, e.off)
}

func patternErr(off int, msg string) error { return &patternError{off: off, msg: msg} }

// translateEscape writes the escape at p[i] and returns how many bytes
// after the backslash it used.
func translateEscape(b *strings.Builder, p string, i int, inClass bool) (int, error) {
	if i+1 >= len(p) {
		return 0, patternErr(i, "the pattern ends with a lone backslash")
	}
	c := p[i+1]
	switch {
	case c >= '1' && c <= '9' && !inClass:
		return 0, patternErr(i, "backreferences such as \\"+string(c)+" are not supported")
	case c == 'Z':
		b.WriteString(`\z`)
		return 1, nil
	case c == 'u' || c == 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if i+2+n > len(p) || strings.Trim(p[i+2:i+2+n], "0123456789abcdefABCDEF") != "" {
			return 0, patternErr(i, fmt.Sprintf("\\%c needs %d hex digits", c, n))
		}
		b.WriteString(`\x{` + p[i+2:i+2+n] + `}`)
		return 1 + n, nil
	case c == 'N':
		return 0, patternErr(i, "named characters (\\N{…}) are not supported")
	}
	b.WriteByte('\\')
	b.WriteByte(c)
	return 1, nil
}

// translateGroup handles "(?" at p[i] and returns how many bytes after the
// "(" it consumed.
func translateGroup(b *strings.Builder, p string, i int) (int, error) {
	rest := p[i+2:]
	switch {
	case strings.HasPrefix(rest, "P<"):
		b.WriteString("(?P<")
		return 3, nil
	case strings.HasPrefix(rest, "P="):
		return 0, patternErr(i, "backreferences such as (?P=name) are not supported")
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, patternErr(i, "comment group is not closed")
		}
		return 2 + end, nil
	case strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "!") ||
		strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
		return 0, patternErr(i, "lookahead and lookbehind assertions are not supported")
	case strings.HasPrefix(rest, ">"):
		return 0, patternErr(i, "atomic groups are not supported")
	case strings.HasPrefix(rest, "("):
		return 0, patternErr(i, "conditional groups are not supported")
	case strings.HasPrefix(rest, ":"):
		b.WriteString("(?:")
		return 2, nil
	}
	return translateFlags(b, p, i)
}

// translateFlags handles inline flags: (?imsx) or (?i-s:…).
func translateFlags(b *strings.Builder, p string, i int) (int, error) {
	j := i + 2
	var flags strings.Builder
	for ; j < len(p) && p[j] != ')' && p[j] != ':'; j++ {
		switch f := p[j]; f {
		case 'i', 'm', 's', '-':
			flags.WriteByte(f)
		case 'u', 'a':
			// Python 3's default and ASCII-only: nothing to say in Go.
		case 'x', 'L':
			return 0, patternErr(j, fmt.Sprintf("the %c flag is not supported", f))
		default:
			return 0, patternErr(j, fmt.Sprintf("unknown group (?%c", f))
		}
	}
	if j >= len(p) {
		return 0, patternErr(i, "group is not closed")
	}
	f := strings.TrimSuffix(flags.String(), "-")
	switch {
	case f == "" && p[j] == ')':
	case f == "":
		b.WriteString("(?:")
	default:
		b.WriteString("(?" + f + string(p[j]))
	}
	return j - i, nil
}

// compile turns a Python pattern into a Go regexp with re.match semantics
// (anchored at the start only).
func compile(pattern string, fold bool) (*regexp.Regexp, error) {
	t, err := translate(pattern)
	if err != nil {
		return nil, err
	}
	prefix := "^(?:"
	if fold {
		prefix = "(?i)^(?:"
	}
	re, err := regexp.Compile(prefix + t + ")")
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", unwrapSyntax(err))
	}
	return re, nil
}

// unwrapSyntax keeps Go's message but drops the translated pattern it
// quotes, which the user never wrote.
func unwrapSyntax(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": `"); i >= 0 {
		msg = msg[:i]
	}
	return fmt.Errorf("%s", strings.TrimPrefix(msg, "error parsing regexp: "))
}
