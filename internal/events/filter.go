package events

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Filter expressions (docs/mailgun-contract.md §3.2): terms separated by spaces or AND
// must all match, OR between alternatives, NOT negates, "double quotes"
// make a phrase one term, parentheses group, and numeric fields take
// comparisons (>10000 <20000).

// expr is a parsed filter expression.
type expr interface {
	eval(match func(term string) bool) bool
}

type termExpr string
type notExpr struct{ e expr }
type andExpr []expr
type orExpr []expr

func (t termExpr) eval(m func(string) bool) bool { return m(string(t)) }
func (n notExpr) eval(m func(string) bool) bool  { return !n.e.eval(m) }

func (a andExpr) eval(m func(string) bool) bool {
	for _, e := range a {
		if !e.eval(m) {
			return false
		}
	}
	return true
}

func (o orExpr) eval(m func(string) bool) bool {
	for _, e := range o {
		if e.eval(m) {
			return true
		}
	}
	return false
}

// parseExpr parses one filter value.
func parseExpr(s string) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')':
			out = append(out, token{text: string(r)})
			i++
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated quote")
			}
			out = append(out, token{text: string(rs[i+1 : j]), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '(' && rs[j] != ')' && rs[j] != '"' {
				j++
			}
			out = append(out, token{text: string(rs[i:j])})
			i = j
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	return out, nil
}

type exprParser struct {
	toks []token
	pos  int
}

func (p *exprParser) peekKeyword(k string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && p.toks[p.pos].text == k
}

func (p *exprParser) or() (expr, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	alts := orExpr{first}
	for p.peekKeyword("OR") {
		p.pos++
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, e)
	}
	if len(alts) == 1 {
		return first, nil
	}
	return alts, nil
}

func (p *exprParser) and() (expr, error) {
	var all andExpr
	for p.pos < len(p.toks) && !p.peekKeyword("OR") && !p.peekKeyword(")") {
		if p.peekKeyword("AND") {
			if len(all) == 0 {
				return nil, fmt.Errorf("AND needs a term before it")
			}
			p.pos++ // the term after it is required by unary
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		all = append(all, e)
	}
	switch len(all) {
	case 0:
		return nil, fmt.Errorf("missing term")
	case 1:
		return all[0], nil
	}
	return all, nil
}

func (p *exprParser) unary() (expr, error) {
	if p.pos == len(p.toks) || p.peekKeyword(")") || p.peekKeyword("OR") || p.peekKeyword("AND") {
		return nil, fmt.Errorf("missing term")
	}
	if p.peekKeyword("NOT") {
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	if p.peekKeyword("(") {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekKeyword(")") {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return e, nil
	}
	t := p.toks[p.pos]
	p.pos++
	return termExpr(t.text), nil
}

// simpleTerm returns the expression's single plain term, if it is one.
func simpleTerm(e expr) (string, bool) {
	t, ok := e.(termExpr)
	return string(t), ok
}

// numberMatches evaluates a size term: ">10", "<20", ">=5", "<=5" or "7".
func numberMatches(term string, v int) bool {
	ops := []struct {
		op string
		f  func(a, b int) bool
	}{
		{">=", func(a, b int) bool { return a >= b }}, {"<=", func(a, b int) bool { return a <= b }},
		{">", func(a, b int) bool { return a > b }}, {"<", func(a, b int) bool { return a < b }},
	}
	for _, o := range ops {
		if rest, ok := strings.CutPrefix(term, o.op); ok {
			n, err := strconv.Atoi(rest)
			return err == nil && o.f(v, n)
		}
	}
	n, err := strconv.Atoi(term)
	return err == nil && n == v
}
