package mail

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// Reply stripping, for the stripped-text, stripped-signature and
// stripped-html fields of routed and stored messages (docs/mailgun-contract.md §6.4,
// §7). Mailgun does not publish its algorithm; this one removes what mail
// clients add below a reply: the quoted message (an "On … wrote:" line,
// possibly wrapped over two lines, an "-----Original Message-----" or
// Outlook "From:" block, or a trailing run of ">" lines) and the
// signature (after a "-- " line, or a final "Sent from my …" line).

// Presented is a message as Mailgun presents routed and stored messages:
// body-plain (derived from the HTML when there is no text part), the
// reply without its quote and signature, and the HTML without its quote.
type Presented struct {
	Parsed
	BodyPlain, StrippedText, StrippedSignature, BodyHTML, StrippedHTML string
}

// Present parses raw and derives the presented fields.
func Present(raw []byte) (*Presented, error) {
	p, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	out := &Presented{Parsed: p, BodyPlain: p.Text, BodyHTML: p.HTML}
	if out.BodyPlain == "" && p.HTML != "" {
		out.BodyPlain = HTMLToText(p.HTML)
	}
	out.StrippedText, out.StrippedSignature = StripReply(out.BodyPlain)
	if p.HTML != "" {
		out.StrippedHTML = StripHTMLQuotes(p.HTML)
	}
	return out, nil
}

var (
	wroteLine    = regexp.MustCompile(`^On\s.+wrote:\s*$`)
	wroteStart   = regexp.MustCompile(`^On\s.+`)
	originalLine = regexp.MustCompile(`^-{2,}\s*(Original Message|Forwarded message)\s*-{2,}`)
	outlookRule  = regexp.MustCompile(`^_{20,}\s*$`)
	sentFrom     = regexp.MustCompile(`^Sent from my \S`)
)

// StripReply returns the new text of a reply and its signature.
func StripReply(text string) (stripped, signature string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	lines = lines[:quoteStart(lines)]
	sig := -1
	for i, l := range lines {
		if l == "-- " || l == "--" {
			sig = i
		}
	}
	if sig >= 0 {
		signature = strings.TrimSpace(strings.Join(lines[sig+1:], "\n"))
		lines = lines[:sig]
	} else if last := lastNonBlank(lines); last >= 0 && sentFrom.MatchString(strings.TrimSpace(lines[last])) {
		signature = strings.TrimSpace(lines[last])
		lines = lines[:last]
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), signature
}

// quoteStart is the index of the first line of the quoted part, or
// len(lines) when there is none.
func quoteStart(lines []string) int {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case wroteLine.MatchString(t), originalLine.MatchString(t):
			return i
		case wroteStart.MatchString(t) && i+1 < len(lines) && strings.HasSuffix(strings.TrimSpace(lines[i+1]), "wrote:"):
			return i
		case outlookRule.MatchString(t) && i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "From:"):
			return i
		}
	}
	// A trailing block of quoted lines (blank lines allowed between).
	start := len(lines)
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, ">") {
			start = i
		} else if t != "" {
			break
		}
	}
	return start
}

func lastNonBlank(lines []string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			return i
		}
	}
	return -1
}

// blockElements end a line when HTML becomes text.
var blockElements = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true, "table": true, "ul": true, "ol": true}

// HTMLToText renders HTML as plain text: tags dropped, entities decoded,
// block elements on lines of their own, scripts and styles left out. It is
// body-plain for messages that only have HTML.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " ") + " ")
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style" || n == "head":
				skip++
			case blockElements[n]:
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case (n == "script" || n == "style" || n == "head") && skip > 0:
				skip--
			case blockElements[n]:
				b.WriteString("\n")
			}
		}
	}
}

// tidyText trims each line and keeps at most one blank line in a row.
func tidyText(s string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// StripHTMLQuotes removes the quoted part of an HTML reply: blockquote
// elements and the containers mail clients put quotes in (Gmail's
// class gmail_quote, Outlook's id divRplyFwdMsg). Everything else is kept
// token for token; HTML that cannot be tokenized is returned unchanged.
func StripHTMLQuotes(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b bytes.Buffer
	depth := 0 // > 0 inside a quote: nesting of its elements
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				return s
			}
			return strings.TrimSpace(b.String())
		}
		raw := append([]byte(nil), z.Raw()...)
		tok := z.Token()
		switch {
		case depth > 0 && tt == html.StartTagToken && !voidElements[tok.Data]:
			depth++
		case depth > 0 && tt == html.EndTagToken:
			depth--
		case depth == 0 && tt == html.StartTagToken && isQuote(tok):
			depth = 1
		case depth == 0:
			b.Write(raw)
		}
	}
}

// voidElements have no end tag.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

func isQuote(t html.Token) bool {
	if t.Data == "blockquote" {
		return true
	}
	for _, a := range t.Attr {
		if (a.Key == "class" && strings.Contains(a.Val, "gmail_quote")) || (a.Key == "id" && a.Val == "divRplyFwdMsg") {
			return true
		}
	}
	return false
}
