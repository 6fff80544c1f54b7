package tracking

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/salvo-email/salvo/internal/secret"
)

// Kinds of token; each is served under its own path (/o/, /c/, /u/).
const (
	kindOpen  byte = 'o'
	kindClick byte = 'c'
	kindUnsub byte = 'u'
)

// Unsubscribe scopes: the whole domain (%unsubscribe_url%,
// %unsubscribe_email%), the message's tags (%tag_unsubscribe_url%,
// %tag_unsubscribe_email%) or the mailing list the copy came through
// (%mailing_list_unsubscribe_url%).
const (
	scopeDomain byte = 'd'
	scopeTags   byte = 't'
	scopeList   byte = 'l'
)

// token is what a tracking URL carries. It is sealed (AES-256-GCM, the
// app's secret box, purpose tokenPurpose) so it reveals nothing — not the
// recipient, not the URL — and cannot be altered or forged: a click token
// redirects only to the URL it was made with.
type token struct {
	kind       byte
	domain     string
	messageKey string
	recipient  string
	url        string   // click: where to redirect
	scope      byte     // unsubscribe
	tags       []string // unsubscribe from these tags (scopeTags)
	list       string   // unsubscribe from this list (scopeList)
}

// tokenPurpose binds sealed tokens to tracking: no other sealed value of
// the box opens as a token, and no token opens as anything else.
const tokenPurpose = "tracking token v1"

var errBadToken = errors.New("tracking: invalid token")

func (t *token) marshal() []byte {
	n := 4 + len(t.domain) + len(t.messageKey) + len(t.recipient) + len(t.url) + len(t.list) + 16
	for _, tag := range t.tags {
		n += len(tag) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, 1, t.kind, t.scope)
	for _, s := range []string{t.domain, t.messageKey, t.recipient, t.url, t.list} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(t.tags)))
	for _, tag := range t.tags {
		b = binary.AppendUvarint(b, uint64(len(tag)))
		b = append(b, tag...)
	}
	return b
}

func unmarshalToken(b []byte) (token, error) {
	var t token
	if len(b) < 3 || b[0] != 1 {
		return t, errBadToken
	}
	t.kind, t.scope, b = b[1], b[2], b[3:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	for _, dst := range []*string{&t.domain, &t.messageKey, &t.recipient, &t.url, &t.list} {
		s, ok := str()
		if !ok {
			return t, errBadToken
		}
		*dst = s
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 16 {
		return t, errBadToken
	}
	b = b[k:]
	for range n {
		s, ok := str()
		if !ok {
			return t, errBadToken
		}
		t.tags = append(t.tags, s)
	}
	if len(b) != 0 || t.domain == "" || t.recipient == "" {
		return t, errBadToken
	}
	return t, nil
}

// sealer seals and opens tokens.
type sealer struct{ box *secret.Box }

// seal returns t as base64url text (no padding) for a URL path.
func (s sealer) seal(t *token) string {
	return base64.RawURLEncoding.EncodeToString(s.box.Seal(tokenPurpose, t.marshal()))
}

// open reads a sealed token of the given kind; any damage, forgery or
// other kind is errBadToken.
func (s sealer) open(text string, kind byte) (token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return token{}, errBadToken
	}
	return s.unseal(raw, kind)
}

// unseal opens a decoded sealed token of the given kind.
func (s sealer) unseal(raw []byte, kind byte) (token, error) {
	if len(raw) > 8192 {
		return token{}, errBadToken
	}
	plain, err := s.box.Open(tokenPurpose, raw)
	if err != nil {
		return token{}, errBadToken
	}
	t, err := unmarshalToken(plain)
	if err != nil || t.kind != kind {
		return token{}, errBadToken
	}
	return t, nil
}

// emailEncoding spells tokens in email local parts: lower case, since
// mail systems may change the case of a local part.
var emailEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// sealEmail returns t for %unsubscribe_email% (u+<token>@<tracking host>).
func (s sealer) sealEmail(t *token) string {
	return emailEncoding.EncodeToString(s.box.Seal(tokenPurpose, t.marshal()))
}

// openEmail reads a token of an unsubscribe address's local part.
func (s sealer) openEmail(local string) (token, error) {
	text, ok := strings.CutPrefix(strings.ToLower(local), "u+")
	if !ok {
		return token{}, errBadToken
	}
	raw, err := emailEncoding.DecodeString(text)
	if err != nil {
		return token{}, errBadToken
	}
	return s.unseal(raw, kindUnsub)
}
