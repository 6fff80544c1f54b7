package tracking

import (
	"strings"
	"testing"

	"github.com/salvo-email/salvo/internal/store"
)

func ptr[T any](v T) *T { return &v }

// TestDecide: per-message options override the domain's settings.
func TestDecide(t *testing.T) {
	t.Parallel()
	on := store.Tracking{Click: true, Open: true}
	htmlonly := store.Tracking{Click: true, ClickHTMLOnly: true}
	for _, tc := range []struct {
		name string
		d    store.Tracking
		o    Options
		want settings
	}{
		{"domain off", store.Tracking{}, Options{}, settings{}},
		{"domain on", on, Options{}, settings{clicks: true, opens: true}},
		{"o:tracking=no", on, Options{Tracking: ptr(false)}, settings{}},
		{"o:tracking=yes on a quiet domain", store.Tracking{}, Options{Tracking: ptr(true)}, settings{clicks: true, opens: true}},
		{"o:tracking-clicks=no", on, Options{Clicks: "no"}, settings{opens: true}},
		{"o:tracking=no, o:tracking-opens=yes", on, Options{Tracking: ptr(false), Opens: ptr(true)}, settings{opens: true}},
		{"domain htmlonly", htmlonly, Options{}, settings{clicks: true, htmlonly: true}},
		{"o:tracking-clicks=yes over htmlonly", htmlonly, Options{Clicks: "yes"}, settings{clicks: true}},
		{"o:tracking-clicks=htmlonly", store.Tracking{}, Options{Clicks: "htmlonly"}, settings{clicks: true, htmlonly: true}},
		{"pixel at the top", store.Tracking{Open: true}, Options{PixelTop: true}, settings{opens: true, top: true}},
		{"domain place_at_the_top", store.Tracking{Open: true, OpenTop: true}, Options{}, settings{opens: true, top: true}},
		{"unsubscribe", store.Tracking{Unsubscribe: true}, Options{Tracking: ptr(false)}, settings{unsub: true}},
	} {
		if got := decide(tc.d, tc.o); got != tc.want {
			t.Errorf("%s: decide = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestTrackCopies: nothing to do gives nil; each recipient gets its own
// tokens; htmlonly leaves the text alone; the pixel goes first when asked.
func TestTrackCopies(t *testing.T) {
	t.Parallel()
	s := benchService()
	d := store.Domain{Name: "mg.example.com", WebScheme: "https", WebPrefix: "trk"}
	if s.Track(d, Message{Key: "k", Body: []byte("no placeholders")}) != nil {
		t.Fatal("an untracked message without placeholders gets a rewriting")
	}
	if s.Track(d, Message{Key: "k", Body: []byte("bye: %unsubscribe_url%")}) == nil {
		t.Fatal("%unsubscribe_url% is not filled when tracking is off")
	}
	d.Tracking = store.Tracking{Click: true, ClickHTMLOnly: true, Open: true, OpenTop: true}
	track := s.Track(d, Message{Key: "k"})
	html := `<html><body><a href="https://x.example/">x</a></body></html>`
	text := "see https://x.example/"
	a, b := track("a@example.org", ""), track("b@example.org", "")
	ha, hb := a.HTML(a.Replace(html)), b.HTML(b.Replace(html))
	if ha == hb || !strings.HasPrefix(ha, `<html><body><img width="1px" height="1px" alt="" src="https://trk.mg.example.com/o/`) ||
		!strings.Contains(ha, `<a href="https://trk.mg.example.com/c/`) {
		t.Fatalf("copies:\n%s\n%s", ha, hb)
	}
	if got := a.Text(a.Replace(text)); got != text {
		t.Fatalf("htmlonly rewrote the text: %s", got)
	}
	if len(a.Headers) != 0 {
		t.Fatalf("headers without unsubscribe tracking: %v", a.Headers)
	}
	// A link's token opens to the recipient and the URL.
	tok := ha[strings.Index(ha, "/c/")+3:]
	tok = tok[:strings.IndexByte(tok, '"')]
	got, err := s.seal.open(tok, kindClick)
	if err != nil || got.recipient != "a@example.org" || got.url != "https://x.example/" || got.messageKey != "k" {
		t.Fatalf("click token = %+v, %v", got, err)
	}
}

// TestTagUnsubscribeEmail: %tag_unsubscribe_email% becomes a mailto: URI
// (once, also after a written "mailto:") whose address opens to the
// message's tags, or to the whole domain for a message without tags.
func TestTagUnsubscribeEmail(t *testing.T) {
	t.Parallel()
	s := benchService()
	d := store.Domain{Name: "mg.example.com", WebScheme: "https", WebPrefix: "trk"}
	body := []byte("List-Unsubscribe: <%tag_unsubscribe_email%>")
	for _, tc := range []struct {
		tags  []string
		scope byte
	}{{[]string{"bulk-email", "ghost"}, scopeTags}, {nil, scopeDomain}} {
		track := s.Track(d, Message{Key: "k", Body: body, Tags: tc.tags})
		if track == nil {
			t.Fatal("the tag unsubscribe address is not filled when tracking is off")
		}
		rw := track("a@example.org", "")
		bare, written := rw.Replace("<%tag_unsubscribe_email%>"), rw.Replace("<mailto:%tag_unsubscribe_email%>")
		if bare != written || !strings.HasPrefix(bare, "<mailto:u+") || !strings.HasSuffix(bare, "@trk.mg.example.com>") {
			t.Fatalf("tags %v: filled %q and %q, want one <mailto:u+…@trk.mg.example.com>", tc.tags, bare, written)
		}
		local := strings.TrimPrefix(bare[1:strings.IndexByte(bare, '@')], "mailto:")
		got, err := s.seal.openEmail(local)
		if err != nil || got.scope != tc.scope || strings.Join(got.tags, ",") != strings.Join(tc.tags, ",") || got.recipient != "a@example.org" {
			t.Errorf("tags %v: address opens to %+v, %v; want scope %c", tc.tags, got, err, tc.scope)
		}
	}
}
