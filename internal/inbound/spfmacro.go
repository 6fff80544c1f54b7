package inbound

import (
	"fmt"
	"strconv"
	"strings"
)

// expand expands the macros of an SPF domain-spec (RFC 7208 §7) for the
// current domain.
func (c *spfCheck) expand(spec, domain string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			b.WriteByte(spec[i])
			continue
		}
		if i+1 >= len(spec) {
			return "", errPerm
		}
		i++
		switch spec[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(spec[i:], '}')
			if end < 0 {
				return "", errPerm
			}
			v, err := c.macro(spec[i+1:i+end], domain)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += end
		default:
			return "", errPerm
		}
	}
	out := strings.TrimSuffix(b.String(), ".")
	if len(out) > 253 { // RFC 7208 §7.3: keep the rightmost labels
		for len(out) > 253 {
			dot := strings.IndexByte(out, '.')
			if dot < 0 {
				return "", errPerm
			}
			out = out[dot+1:]
		}
	}
	return out, nil
}

// macro expands the inside of %{…}: a letter, then digits, an "r" and
// delimiters.
func (c *spfCheck) macro(m, domain string) (string, error) {
	if m == "" {
		return "", errPerm
	}
	var value string
	switch m[0] | 0x20 { // lower case
	case 's':
		value = c.sender
	case 'l':
		value = c.local
	case 'o':
		value = c.sender[strings.LastIndexByte(c.sender, '@')+1:]
	case 'd':
		value = domain
	case 'i':
		value = dottedIP(c)
	case 'v':
		value = "ip6"
		if c.ip.To4() != nil {
			value = "in-addr"
		}
	case 'h':
		value = c.helo
	case 'p':
		value = "unknown"
	default:
		return "", errPerm // c, r, t are for explanations only
	}
	return transform(value, m[1:])
}

// transform applies a macro's transformers (RFC 7208 §7.3): keep the
// rightmost N parts, "r" reverses, and the characters that split parts.
func transform(value, rest string) (string, error) {
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	keep := 0
	if digits > 0 {
		n, err := strconv.Atoi(rest[:digits])
		if err != nil || n == 0 {
			return "", errPerm
		}
		keep = n
	}
	rest = rest[digits:]
	reverse := strings.HasPrefix(rest, "r") || strings.HasPrefix(rest, "R")
	if reverse {
		rest = rest[1:]
	}
	delims := "."
	if rest != "" {
		if strings.Trim(rest, ".-+,/_=") != "" {
			return "", errPerm
		}
		delims = rest
	}
	parts := strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	return strings.Join(parts, "."), nil
}

// dottedIP is %{i}: dotted quads, or dot-separated nibbles for IPv6.
func dottedIP(c *spfCheck) string {
	if v4 := c.ip.To4(); v4 != nil {
		return v4.String()
	}
	var b strings.Builder
	for i, x := range c.ip.To16() {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprintf(&b, "%x.%x", x>>4, x&0xf)
	}
	return b.String()
}
