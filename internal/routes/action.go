package routes

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
)

// Action kinds.
const (
	Forward = "forward"
	Store   = "store"
	Stop    = "stop"
)

// Action is one parsed action (docs/mailgun-contract.md §6.3).
type Action struct {
	Kind string
	// Dests are forward's destinations, URLs or addresses, each as written
	// (captures not yet substituted). One argument may list several,
	// separated by commas.
	Dests []string
	// Notify is store's notify URL ("" for none).
	Notify string
}

// IsURL reports whether a forward destination is a URL (else an address).
func IsURL(dest string) bool { return strings.Contains(dest, "://") }

// String is the canonical text of a.
func (a Action) String() string {
	switch a.Kind {
	case Forward:
		return "forward(" + quote(strings.Join(a.Dests, ", ")) + ")"
	case Store:
		if a.Notify != "" {
			return "store(notify=" + quote(a.Notify) + ")"
		}
		return "store()"
	}
	return "stop()"
}

// ParseAction parses one action: forward("dest[, dest…]"[, "dest"…]),
// store(), store(notify="url") or stop().
func ParseAction(s string) (Action, error) {
	if len(s) > MaxText {
		return Action{}, &SyntaxError{Pos: MaxText + 1, Msg: "action is longer than 4096 characters"}
	}
	l, err := newLexer(s)
	if err != nil {
		return Action{}, err
	}
	name, err := l.expect(tokIdent)
	if err != nil {
		return Action{}, err
	}
	var a Action
	switch kind := strings.ToLower(name.text); kind {
	case Forward:
		a, err = parseForward(l, name)
	case Store:
		a, err = parseStore(l, name)
	case Stop:
		a = Action{Kind: Stop}
		if _, err = l.expect(tokLParen); err == nil {
			_, err = l.expect(tokRParen)
		}
	default:
		return Action{}, l.errf(name.pos, "unknown action %q: use forward, store or stop", name.text)
	}
	if err != nil {
		return Action{}, err
	}
	if l.tok.kind != tokEOF {
		return Action{}, l.errf(l.tok.pos, "expected the end of the action, found %s", describe(l.tok))
	}
	return a, nil
}

func parseForward(l *lexer, name token) (Action, error) {
	args, err := parseStringArgs(l)
	if err != nil {
		return Action{}, err
	}
	a := Action{Kind: Forward}
	for _, arg := range args {
		for _, d := range strings.Split(arg.text, ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			if err := checkDest(d); err != "" {
				return Action{}, l.errf(arg.pos, "forward destination %q %s", d, err)
			}
			a.Dests = append(a.Dests, d)
		}
	}
	if len(a.Dests) == 0 {
		return Action{}, l.errf(name.pos, "forward needs a destination: a URL or an email address")
	}
	return a, nil
}

func parseStore(l *lexer, name token) (Action, error) {
	if _, err := l.expect(tokLParen); err != nil {
		return Action{}, err
	}
	a := Action{Kind: Store}
	if l.tok.kind == tokIdent {
		key := l.tok
		if !strings.EqualFold(key.text, "notify") {
			return Action{}, l.errf(key.pos, "store takes only notify=\"url\", not %q", key.text)
		}
		if err := l.next(); err != nil {
			return Action{}, err
		}
		if _, err := l.expect(tokEquals); err != nil {
			return Action{}, err
		}
		v, err := l.expect(tokString)
		if err != nil {
			return Action{}, err
		}
		if msg := checkURL(v.text); msg != "" {
			return Action{}, l.errf(v.pos, "notify URL %q %s", v.text, msg)
		}
		a.Notify = v.text
	}
	if _, err := l.expect(tokRParen); err != nil {
		return Action{}, err
	}
	return a, nil
}

// placeholder matches capture references: \1 … \9, \g<n>, \g<name>.
var placeholder = regexp.MustCompile(`\\(?:g<(\w+)>|([1-9]))`)

// checkDest says what is wrong with a forward destination, "" if nothing.
func checkDest(d string) string {
	if strings.Contains(placeholder.ReplaceAllString(d, "x"), `\`) {
		return `has a backslash that is not a capture reference (\1 or \g<name>)`
	}
	if IsURL(d) {
		return checkURL(d)
	}
	sample := placeholder.ReplaceAllString(d, "x")
	if a, err := mail.ParseAddress(sample); err != nil || a.Name != "" || strings.ContainsAny(sample, "<>") {
		return "is neither an http(s) URL nor an email address"
	}
	return ""
}

// checkURL says what is wrong with a forward or notify URL: it must be
// http or https, and captures may not be used in its host.
func checkURL(s string) string {
	if strings.Contains(placeholder.ReplaceAllString(s, "x"), `\`) {
		return `has a backslash that is not a capture reference (\1 or \g<name>)`
	}
	u, err := url.Parse(placeholder.ReplaceAllString(s, "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "is not an http:// or https:// URL"
	}
	if rest, ok := strings.CutPrefix(s, u.Scheme+"://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		if placeholder.MatchString(host) {
			return "uses a capture in its host, which is not allowed"
		}
	}
	return ""
}
