package tracking

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// rewriteHTML returns doc with the href of every <a> and <area> whose URL
// is http(s) replaced by wrap(url), except links marked
// disable-tracking=true and URLs keep says to keep (Salvo's own tracking
// links). Everything else — comments (and links in them), entities,
// whitespace, the tags' other attributes — is copied byte for byte: the
// document is tokenized, never parsed into a tree and rendered again.
// top is inserted just inside <body> (else at the start), bottom just
// before </body> (else at the end): the open pixel, the unsubscribe footer.
func rewriteHTML(doc string, wrap func(string) string, keep func(string) bool, top, bottom string) string {
	var out strings.Builder
	out.Grow(len(doc) + len(doc)/4 + len(top) + len(bottom))
	z := html.NewTokenizer(strings.NewReader(doc))
	topDone, bottomDone := top == "", bottom == ""
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			// io.EOF, or the input ended inside a token: Raw still holds
			// what was read.
			out.Write(z.Raw())
			break
		}
		// TagName and TagAttr change the tokenizer's buffer in place
		// (lower case, unescaping): copy the raw bytes first. Tags are
		// told apart by their raw name, so only <a>, <area> and <body>
		// cost a TagName call.
		raw := string(z.Raw())
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch name := rawTagName(raw); {
			case !topDone && strings.EqualFold(name, "body"):
				out.WriteString(raw)
				out.WriteString(top)
				topDone = true
				continue
			case wrap != nil && (strings.EqualFold(name, "a") || strings.EqualFold(name, "area")):
				if _, hasAttr := z.TagName(); hasAttr {
					raw = rewriteTag(z, raw, wrap, keep)
				}
			}
		case html.EndTagToken:
			if !bottomDone && strings.EqualFold(rawTagName(raw), "body") {
				out.WriteString(bottom)
				bottomDone = true
			}
		}
		out.WriteString(raw)
	}
	if !bottomDone {
		out.WriteString(bottom)
	}
	if !topDone {
		return top + out.String()
	}
	return out.String()
}

// rawTagName is the name of a raw start or end tag, as written.
func rawTagName(raw string) string {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	j := i
	for j < len(raw) && !isSpace(raw[j]) && raw[j] != '/' && raw[j] != '>' {
		j++
	}
	return raw[i:j]
}

// rewriteTag returns the raw start tag with its href value replaced, when
// the link is to be tracked.
func rewriteTag(z *html.Tokenizer, raw string, wrap func(string) string, keep func(string) bool) string {
	href, hasHref := "", false
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "href":
			if !hasHref { // the first one counts, as in browsers
				href, hasHref = string(v), true
			}
		case "disable-tracking":
			if strings.EqualFold(strings.TrimSpace(string(v)), "true") {
				return raw
			}
		}
		if !more {
			break
		}
	}
	if !hasHref || !trackable(href) || keep(href) {
		return raw
	}
	start, end, ok := hrefSpan(raw)
	if !ok {
		return raw
	}
	val := raw[start:end]
	q := ""
	if len(val) == 0 || (val[0] != '"' && val[0] != '\'') {
		q = `"` // was unquoted: quote the new value
	}
	return raw[:start] + q + quoteLike(val, wrap(strings.TrimSpace(href))) + q + raw[end:]
}

// quoteLike returns v in the quotes of the original value val.
func quoteLike(val, v string) string {
	if len(val) > 0 && (val[0] == '"' || val[0] == '\'') {
		return string(val[0]) + v + string(val[0])
	}
	return v
}

// trackable reports whether a link goes somewhere a redirect can take a
// reader: absolute http(s) URLs. mailto:, tel:, #anchors, relative and
// javascript: links are left alone.
func trackable(u string) bool {
	u = strings.TrimSpace(u)
	if len(u) < 8 {
		return false
	}
	l := strings.ToLower(u[:8])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// hrefSpan finds the value of the first href attribute in a raw start
// tag: [start, end) covers the value with its quotes, if any. It follows
// the HTML tokenizer's attribute rules (WHATWG 13.2.5.32–13.2.5.39).
func hrefSpan(raw string) (start, end int, ok bool) {
	i := 1 // past '<'
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' {
		i++ // the tag name
	}
	for i < len(raw) {
		for i < len(raw) && (isSpace(raw[i]) || raw[i] == '/') {
			i++
		}
		if i >= len(raw) || raw[i] == '>' {
			return 0, 0, false
		}
		ns := i
		i++ // an attribute name may start with '='
		for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' && raw[i] != '=' {
			i++
		}
		name := strings.ToLower(raw[ns:i])
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] != '=' {
			continue // no value
		}
		i++
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		vs := i
		if i < len(raw) && (raw[i] == '"' || raw[i] == '\'') {
			q := raw[i]
			j := strings.IndexByte(raw[i+1:], q)
			if j < 0 {
				return 0, 0, false
			}
			i += j + 2
		} else {
			for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' {
				i++
			}
		}
		if name == "href" {
			return vs, i, true
		}
	}
	return 0, 0, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// textURL finds URLs in plain text.
var textURL = regexp.MustCompile(`(?i)https?://[^\s<>"]+`)

// rewriteText replaces every http(s) URL of a text part by wrap(url),
// except those keep says to keep. Punctuation that ends a sentence is not
// taken as part of the URL.
func rewriteText(s string, wrap func(string) string, keep func(string) bool) string {
	return textURL.ReplaceAllStringFunc(s, func(u string) string {
		trail := ""
		for len(u) > 0 && strings.ContainsRune(".,;:!?)'>]", rune(u[len(u)-1])) {
			trail = u[len(u)-1:] + trail
			u = u[:len(u)-1]
		}
		if !trackable(u) || keep(u) {
			return u + trail
		}
		return wrap(u) + trail
	})
}
