package tracking

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/salvo-email/salvo/internal/mail"
	"github.com/salvo-email/salvo/internal/secret"
	"github.com/salvo-email/salvo/internal/store"
)

// benchHTML is a newsletter of about 100 KB with 200 links.
func benchHTML() string {
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><style>td{padding:4px}</style></head><body><table>")
	for i := range 200 {
		fmt.Fprintf(&b, `<tr><td class="item"><a href="https://shop.example.com/products/%d?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring">Product %d</a></td><td>%s</td></tr>`+"\n",
			i, i, strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit &amp; more. ", 6))
	}
	b.WriteString("</table></body></html>")
	return b.String()
}

func benchService() *Service {
	return New(Deps{Box: secret.New([]byte("benchmark secret of 32 bytes....")), Now: time.Now})
}

var benchDomain = store.Domain{Name: "mg.example.com", WebScheme: "https", WebPrefix: "email",
	Tracking: store.Tracking{Click: true, Open: true, Unsubscribe: true, HTMLFooter: store.DefaultHTMLFooter, TextFooter: store.DefaultTextFooter}}

// BenchmarkRewriteHTML is the link rewriting of one recipient's copy: 200
// links sealed into tokens, the pixel, the footer, in a 100 KB HTML part.
func BenchmarkRewriteHTML(b *testing.B) {
	doc := benchHTML()
	s := benchService()
	track := s.Track(benchDomain, Message{Key: "key", Tags: []string{"spring"}})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rw := track(fmt.Sprintf("reader%d@example.org", i), "")
		out := rw.HTML(rw.Replace(doc))
		if strings.Count(out, "https://email.mg.example.com/c/") != 200 {
			b.Fatal("links not rewritten")
		}
	}
}

// BenchmarkRewriteMessage is a whole recipient's copy as delivery makes
// it: MIME read, the HTML (100 KB, 200 links) and text parts rewritten,
// headers added, quoted-printable written again.
func BenchmarkRewriteMessage(b *testing.B) {
	doc := benchHTML()
	raw, err := mail.Build(mail.Spec{From: mustAddr("news@mg.example.com"), To: nil, Subject: "Spring",
		HTML: doc, Text: "Shop at https://shop.example.com/ now.", MessageID: "bench@mg.example.com", Date: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	s := benchService()
	track := s.Track(benchDomain, Message{Key: "key", Body: raw})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := mail.Rewrite(raw, track(fmt.Sprintf("reader%d@example.org", i), "")); err != nil {
			b.Fatal(err)
		}
	}
}

func mustAddr(a string) *netmail.Address { return &netmail.Address{Address: a} }
