package tracking

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/secret"
)

func testSealer() sealer { return sealer{box: secret.New([]byte("tracking test secret, 32 bytes!!"))} }

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	s := testSealer()
	for _, tok := range []token{
		{kind: kindClick, domain: "mg.example.com", messageKey: "k1", recipient: "Bob@Example.com", url: "https://shop.example.com/?a=1&b=ü"},
		{kind: kindOpen, domain: "mg.example.com", messageKey: "k1", recipient: "bob@example.com"},
		{kind: kindUnsub, scope: scopeTags, domain: "mg.example.com", messageKey: "k1", recipient: "bob@example.com", tags: []string{"news", "promo"}},
		{kind: kindUnsub, scope: scopeList, domain: "mg.example.com", recipient: "bob@example.com", list: "dev@mg.example.com"},
	} {
		text := s.seal(&tok)
		if strings.Contains(text, "bob") || strings.Contains(text, "example") {
			t.Errorf("token %s shows its content", text)
		}
		got, err := s.open(text, tok.kind)
		if err != nil || !reflect.DeepEqual(got, tok) {
			t.Errorf("open(seal(%+v)) = %+v, %v", tok, got, err)
		}
		if tok.kind == kindUnsub {
			got, err := s.openEmail("u+" + s.sealEmail(&tok))
			if err != nil || !reflect.DeepEqual(got, tok) {
				t.Errorf("openEmail(sealEmail(%+v)) = %+v, %v", tok, got, err)
			}
		}
	}
}

// TestTokenTampering: any change to a token, a token of another kind or
// secret, and garbage all fail to open.
func TestTokenTampering(t *testing.T) {
	t.Parallel()
	s := testSealer()
	tok := token{kind: kindClick, domain: "mg.example.com", messageKey: "k1", recipient: "bob@example.com", url: "https://good.example.com/"}
	text := s.seal(&tok)
	raw, _ := base64.RawURLEncoding.DecodeString(text)
	for i := range raw {
		for _, bit := range []byte{1, 0x80} {
			b := append([]byte(nil), raw...)
			b[i] ^= bit
			if _, err := s.open(base64.RawURLEncoding.EncodeToString(b), kindClick); err == nil {
				t.Fatalf("flipping bit %x of byte %d still opens", bit, i)
			}
		}
	}
	if _, err := s.open(text, kindOpen); err == nil {
		t.Error("a click token opens as an open token")
	}
	other := sealer{box: secret.New([]byte("another secret, also 32 bytes!!!"))}
	if _, err := other.open(text, kindClick); err == nil {
		t.Error("a token opens with another secret")
	}
	for _, bad := range []string{"", "x", "!!!", text[:len(text)-1], text + "A", strings.Repeat("A", 20000)} {
		if _, err := s.open(bad, kindClick); err == nil {
			t.Errorf("open(%.20q) succeeded", bad)
		}
	}
}

// FuzzUnmarshalToken: no input makes the decoder panic, and what it
// accepts marshals to bytes that decode to the same token.
func FuzzUnmarshalToken(f *testing.F) {
	f.Add((&token{kind: kindClick, domain: "d", recipient: "r", url: "u", tags: []string{"a"}}).marshal())
	f.Add([]byte{1, 'c', 0, 1, 'd'})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := unmarshalToken(b)
		if err != nil {
			return
		}
		again, err := unmarshalToken(tok.marshal())
		if err != nil || !reflect.DeepEqual(again, tok) {
			t.Fatalf("unmarshal(marshal(%+v)) = %+v, %v", tok, again, err)
		}
	})
}
