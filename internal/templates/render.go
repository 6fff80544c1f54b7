package templates

import (
	"fmt"
	"strings"

	"github.com/mailgun/raymond/v2"
	"github.com/salvo-email/salvo/internal/fault"
	"golang.org/x/net/html"
)

// Check parses content as a Handlebars template and returns a clear 400
// when it is not one.
func Check(content string) error {
	if _, err := raymond.Parse(content); err != nil {
		return fault.Invalidf("template is not valid Handlebars: %v", err)
	}
	return nil
}

// Render renders content with vars, Mailgun's way: Handlebars (Mailgun's
// fork, github.com/mailgun/raymond) with its if/else if, unless, each,
// with and equal helpers; {{x}} is HTML-escaped, {{{x}}} is not; a
// variable the data lacks renders as the empty string, as in every
// Handlebars, rather than failing the send.
func Render(content string, vars map[string]any) (string, error) {
	tpl, err := raymond.Parse(content)
	if err != nil {
		return "", fault.Invalidf("template is not valid Handlebars: %v", err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	out, err := tpl.Exec(vars)
	if err != nil {
		return "", fault.Invalidf("template could not be rendered: %v", err)
	}
	return out, nil
}

// lineElements start a new line in the text version of an HTML part,
// paragraphElements stand apart by an empty line.
var (
	lineElements = map[string]bool{"br": true, "tr": true, "li": true, "div": true, "title": true,
		"section": true, "article": true, "header": true, "footer": true}
	paragraphElements = map[string]bool{"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true,
		"h6": true, "table": true, "ul": true, "ol": true, "hr": true, "blockquote": true, "pre": true}
)

// Text is the text version of a rendered HTML template (t:text=yes): the
// document's text with entities decoded, a line break per block element,
// runs of blanks collapsed, link targets kept after their text as
// "text (url)", and no style, script or head content.
func Text(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var b strings.Builder
	skip := 0
	var href []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				collapse(&b, string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch {
			case tag == "style" || tag == "script" || tag == "head":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case tag == "a" && tt == html.StartTagToken:
				href = append(href, linkOf(z, hasAttr))
			case tag == "a" && tt == html.EndTagToken && len(href) > 0:
				if u := href[len(href)-1]; u != "" && !strings.HasPrefix(u, "#") {
					fmt.Fprintf(&b, " (%s)", u)
				}
				href = href[:len(href)-1]
			case paragraphElements[tag]:
				b.WriteString("\n\n")
			case lineElements[tag] && tt != html.EndTagToken:
				b.WriteByte('\n')
			}
		}
	}
}

func linkOf(z *html.Tokenizer, more bool) string {
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == "href" {
			return string(v)
		}
	}
	return ""
}

// collapse writes text with each run of white space as one space.
func collapse(b *strings.Builder, text string) {
	space := false
	for _, r := range text {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
}

// tidy trims every line and keeps at most one empty line in a row.
func tidy(s string) string {
	var out []string
	blank := true
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}
