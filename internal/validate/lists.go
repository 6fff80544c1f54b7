package validate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // the disposable-domain list
	"fmt"
	"strings"
	"sync"
)

//go:embed data/disposable.txt.gz
var disposableGz []byte

// Disposable is a set of disposable mailbox domains: exact names, and
// names whose every subdomain is disposable too.
type Disposable struct {
	exact    map[string]struct{}
	wildcard map[string]struct{}
}

// LoadDisposable reads a list: one domain a line, "*.domain" for a domain
// and all its subdomains, '#' comments.
func LoadDisposable(gz []byte) (*Disposable, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("disposable list: %w", err)
	}
	d := &Disposable{exact: make(map[string]struct{}, 130_000), wildcard: map[string]struct{}{}}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case strings.HasPrefix(line, "*."):
			d.wildcard[line[2:]] = struct{}{}
		default:
			d.exact[line] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("disposable list: %w", err)
	}
	return d, nil
}

// ShippedDisposable is the list shipped in data/ (see its LICENSE file),
// read on first use and shared, read-only, by every caller of the process.
func ShippedDisposable() (*Disposable, error) { return shipped() }

// ShippedDisposableData is the shipped list as stored (gzip).
func ShippedDisposableData() []byte { return disposableGz }

var shipped = sync.OnceValues(func() (*Disposable, error) { return LoadDisposable(disposableGz) })

// Len is the number of entries.
func (d *Disposable) Len() int { return len(d.exact) + len(d.wildcard) }

// Has reports whether an ASCII, lower-case domain is disposable.
func (d *Disposable) Has(domain string) bool {
	if _, ok := d.exact[domain]; ok {
		return true
	}
	for name := domain; ; {
		if _, ok := d.wildcard[name]; ok {
			return true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}

// roles are local parts that name a function, not a person: mail to them
// goes to whoever holds the role, often a list (RFC 2142 names and common
// ones).
var roles = toSet(`abuse admin administrator all billing careers contact customerservice
 enquiries everyone ftp help helpdesk hostmaster hr info inquiries it jobs list mail
 mailer-daemon marketing media news newsletter no-reply noc noreply null office postmaster
 press privacy root sales security spam staff support team usenet uucp webmaster www`)

// IsRole reports whether a local part is a role name: compared without
// case and without a "+tag" suffix.
func IsRole(local string) bool {
	l := strings.ToLower(strings.Trim(local, `"`))
	if i := strings.IndexByte(l, '+'); i > 0 {
		l = l[:i]
	}
	_, ok := roles[l]
	return ok
}

// providers maps a mailbox domain to its mailbox provider.
var providers = providerDomains()

// mxProviders maps the end of an MX host name to the provider that runs
// it, for custom domains hosted at a big provider.
var mxProviders = []struct{ suffix, provider string }{
	{".google.com", "gmail"}, {".googlemail.com", "gmail"},
	{".protection.outlook.com", "microsoft"}, {".outlook.com", "microsoft"}, {".hotmail.com", "microsoft"},
	{".yahoodns.net", "yahoo"}, {".mail.icloud.com", "apple"}, {".me.com", "apple"},
	{".zoho.com", "zoho"}, {".zoho.eu", "zoho"}, {".protonmail.ch", "proton"},
	{".messagingengine.com", "fastmail"}, {".yandex.net", "yandex"}, {".yandex.ru", "yandex"},
	{".gmx.net", "gmx"}, {".web.de", "web.de"}, {".mail.ru", "mail.ru"},
}

func providerDomains() map[string]string {
	m := map[string]string{}
	for provider, names := range map[string]string{
		"gmail":     "gmail.com googlemail.com",
		"microsoft": "outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.it hotmail.es live.com live.co.uk live.fr msn.com outlook.fr outlook.de",
		"yahoo":     "yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it yahoo.co.jp yahoo.com.br ymail.com rocketmail.com",
		"aol":       "aol.com aim.com",
		"apple":     "icloud.com me.com mac.com",
		"proton":    "proton.me protonmail.com pm.me",
		"gmx":       "gmx.com gmx.net gmx.de",
		"web.de":    "web.de",
		"yandex":    "yandex.com yandex.ru ya.ru",
		"mail.ru":   "mail.ru",
		"zoho":      "zoho.com zohomail.com",
		"fastmail":  "fastmail.com fastmail.fm",
		"comcast":   "comcast.net",
		"orange":    "orange.fr wanadoo.fr",
		"qq":        "qq.com",
		"163":       "163.com 126.com",
	} {
		for _, n := range strings.Fields(names) {
			m[n] = provider
		}
	}
	return m
}

func toSet(words string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(words) {
		m[w] = struct{}{}
	}
	return m
}

// ProviderOf names the mailbox provider of a domain, from the domain
// itself or from its MX hosts ("" when unknown).
func ProviderOf(domain string, mxHosts []string) string {
	if p, ok := providers[domain]; ok {
		return p
	}
	for _, h := range mxHosts {
		h = "." + strings.ToLower(strings.TrimSuffix(h, "."))
		for _, m := range mxProviders {
			if strings.HasSuffix(h, m.suffix) {
				return m.provider
			}
		}
	}
	return ""
}

// suggestions are the domains did_you_mean proposes: the big providers,
// whose misspellings are common in sign-up forms.
var suggestions = []string{"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com",
	"live.com", "icloud.com", "aol.com", "msn.com", "protonmail.com", "proton.me", "gmx.com", "gmx.net",
	"yandex.com", "mail.ru", "comcast.net", "me.com", "mac.com", "ymail.com", "web.de", "qq.com"}

// Suggest returns a big provider's domain one edit (insert, delete,
// substitute or swap two neighbours) away from domain, or "" when there is
// none or domain is itself a known provider's.
func Suggest(domain string) string {
	if _, ok := providers[domain]; ok {
		return ""
	}
	for _, s := range suggestions {
		if oneEdit(domain, s) {
			return s
		}
	}
	return ""
}

// oneEdit reports whether a and b differ by exactly one edit of the
// optimal-string-alignment distance.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		i := 0
		for i < la && a[i] == b[i] {
			i++
		}
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // swap
	case la == lb+1:
		return deletesTo(a, b)
	case lb == la+1:
		return deletesTo(b, a)
	}
	return false
}

// deletesTo reports whether removing one byte of long gives short.
func deletesTo(long, short string) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return long[i+1:] == short[i:]
}
