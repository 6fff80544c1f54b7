package tracking

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// testWrap makes a readable fake tracking URL holding the original.
func testWrap(u string) string { return "https://t.test/c/" + url.QueryEscape(u) }

func testKeep(u string) bool { return strings.HasPrefix(u, "https://t.test/") }

const testPixel = `<img width="1px" height="1px" alt="" src="https://t.test/o/PIXEL">`

// TestRewriteHTMLGolden rewrites the tricky documents of testdata and
// compares with their golden files (go test -run Golden -update writes
// them): entities, nested tables, links in comments, scripts and styles,
// mailto:, tel:, anchors, disable-tracking, a fragment without <body> and
// a document cut in the middle of a tag.
func TestRewriteHTMLGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		for _, top := range []bool{false, true} {
			name := strings.TrimSuffix(filepath.Base(f), ".html")
			if top {
				name += ".top"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				in, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				pixTop, pixBottom := "", testPixel
				if top {
					pixTop, pixBottom = testPixel, ""
				}
				got := rewriteHTML(string(in), testWrap, testKeep, pixTop, pixBottom)
				golden := filepath.Join("testdata", name+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("rewrite of %s differs from %s:\n--- got\n%s\n--- want\n%s", f, golden, got, want)
				}
				// Undo the rewriting: what is left must be the input, byte
				// for byte (only hrefs changed, only the pixel added).
				back := strings.Replace(got, testPixel, "", 1)
				back = unwrapAll(back)
				if back != string(in) && !strings.Contains(string(in), "href=https://unquoted") {
					t.Errorf("undoing the rewrite of %s does not give the input back:\n%s", f, back)
				}
			})
		}
	}
}

// unwrapAll turns testWrap URLs back into the originals.
func unwrapAll(s string) string {
	const p = "https://t.test/c/"
	for {
		i := strings.Index(s, p)
		if i < 0 {
			return s
		}
		j := i + len(p)
		for j < len(s) && !strings.ContainsRune("\"' >", rune(s[j])) {
			j++
		}
		u, err := url.QueryUnescape(s[i+len(p) : j])
		if err != nil {
			return s
		}
		// The original was HTML-escaped in the document where needed.
		u = strings.ReplaceAll(u, "&", "&amp;")
		s = s[:i] + u + s[j:]
	}
}

// TestRewriteHTMLIdentity: with nothing to do, every document comes back
// unchanged.
func TestRewriteHTMLIdentity(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.html")
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := rewriteHTML(string(in), nil, testKeep, "", ""); got != string(in) {
			t.Errorf("%s changed:\n%s", f, got)
		}
	}
}

func TestRewriteText(t *testing.T) {
	t.Parallel()
	in := "See https://a.example.com/x?y=1&z=2. Or (https://b.example.com/p), " +
		"mail me at bob@example.com, <https://c.example.com/>\nhttps://t.test/u/tok stays; http://d.example.com!"
	want := "See " + testWrap("https://a.example.com/x?y=1&z=2") + ". Or (" + testWrap("https://b.example.com/p") +
		"), mail me at bob@example.com, <" + testWrap("https://c.example.com/") + ">\nhttps://t.test/u/tok stays; " +
		testWrap("http://d.example.com") + "!"
	if got := rewriteText(in, testWrap, testKeep); got != want {
		t.Errorf("rewriteText:\n got %s\nwant %s", got, want)
	}
}
