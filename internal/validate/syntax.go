package validate

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of RFC 5321 §4.5.3.1: a local part of at most 64 octets, a domain
// of at most 255, and a path of at most 256 octets including the angle
// brackets, so an address of at most 254.
const (
	maxLocal   = 64
	maxDomain  = 255
	maxAddress = 254
	maxLabel   = 63
	// MaxInput is the longest address the API looks at (Mailgun's limit).
	MaxInput = 512
)

// Parts is an address split into its local part and its domain.
type Parts struct {
	Local string
	// Domain is the domain as given (lower-cased).
	Domain string
	// ASCII is Domain in its ASCII (A-label) form, for DNS.
	ASCII string
}

// errSyntax is any syntax refusal; its text says what is wrong.
type errSyntax string

func (e errSyntax) Error() string { return string(e) }

// Parse splits an RFC 5322 addr-spec (§3.4.1) into its parts, checking
// RFC 5321's limits. The local part is a dot-atom or a quoted string
// (RFC 5322 §3.2.4); UTF-8 in the local part is allowed as RFC 6531 allows
// it. The domain is a host name of at least two labels, given in ASCII or
// as an internationalised name (converted with IDNA 2008, UTS #46 lookup
// rules). Address literals ("user@[192.0.2.1]") and display names are
// refused: neither can be a recipient of a Mailgun send.
func Parse(addr string) (Parts, error) {
	if addr == "" {
		return Parts{}, errSyntax("empty address")
	}
	if !utf8.ValidString(addr) {
		return Parts{}, errSyntax("not UTF-8")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return Parts{}, errSyntax("no @")
	}
	local, domain := addr[:at], addr[at+1:]
	if err := checkLocal(local); err != nil {
		return Parts{}, err
	}
	if len(local) > maxLocal {
		return Parts{}, errSyntax("local part longer than 64 octets")
	}
	ascii, err := checkDomain(domain)
	if err != nil {
		return Parts{}, err
	}
	if len(local)+1+len(ascii) > maxAddress {
		return Parts{}, errSyntax("address longer than 254 octets")
	}
	return Parts{Local: local, Domain: strings.ToLower(domain), ASCII: ascii}, nil
}

func checkLocal(local string) error {
	if local == "" {
		return errSyntax("empty local part")
	}
	if local[0] == '"' {
		return checkQuoted(local)
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return errSyntax("local part with a leading, trailing or double dot")
	}
	for _, r := range local {
		if r != '.' && !isAtext(r) {
			return errSyntax("character " + quoteRune(r) + " not allowed in an unquoted local part")
		}
	}
	return nil
}

// checkQuoted checks a quoted-string local part: qtext and quoted pairs
// between two DQUOTEs (RFC 5322 §3.2.4; obsolete control characters refused).
func checkQuoted(s string) error {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return errSyntax("unterminated quoted local part")
	}
	inner := s[1 : len(s)-1]
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == '\\':
			if i+1 >= len(inner) || inner[i+1] < 0x20 || inner[i+1] == 0x7f {
				return errSyntax("bad quoted pair in local part")
			}
			i++
		case c == '"':
			return errSyntax("unescaped quote in quoted local part")
		case c < 0x20 || c == 0x7f:
			return errSyntax("control character in local part")
		}
	}
	return nil
}

// isAtext is RFC 5322 atext, extended with non-ASCII as RFC 6531 §3.3 does.
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r >= 0x80:
		return r != utf8.RuneError
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

func quoteRune(r rune) string {
	if r < 0x20 || r == 0x7f {
		return "(control)"
	}
	return "'" + string(r) + "'"
}

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// checkDomain returns the ASCII form of a host-name domain.
func checkDomain(domain string) (string, error) {
	if domain == "" {
		return "", errSyntax("empty domain")
	}
	if domain[0] == '[' {
		return "", errSyntax("address literals are not accepted")
	}
	ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return "", errSyntax("invalid domain: " + err.Error())
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > maxDomain {
		return "", errSyntax("domain longer than 255 octets")
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", errSyntax("domain without a dot")
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", err
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "", errSyntax("numeric top-level domain")
	}
	return ascii, nil
}

// checkLabel applies the host-name rule (RFC 1123 §2.1, RFC 5321 §4.1.2
// sub-domain): letters, digits and inner hyphens, 1 to 63 octets.
func checkLabel(l string) error {
	if l == "" {
		return errSyntax("empty label in domain")
	}
	if len(l) > maxLabel {
		return errSyntax("domain label longer than 63 octets")
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return errSyntax("domain label starting or ending with '-'")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return errSyntax("character '" + string(c) + "' not allowed in a domain")
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
