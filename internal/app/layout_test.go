package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/salvo-email/salvo/"

// repoRoot is the folder holding go.mod, found upward from the test's.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = up
	}
}

// productionImports maps each non-test Go file of the repository (by its
// slash path from the root) to the Salvo packages it imports (paths
// without the module prefix).
func productionImports(t *testing.T) map[string][]string {
	t.Helper()
	root := repoRoot(t)
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		out[rel] = []string{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if own, ok := strings.CutPrefix(p, module); ok {
				out[rel] = append(out[rel], own)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("found only %d Go files under %s; the walk is broken", len(out), root)
	}
	return out
}

func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// TestImportRule: the HTTP edge is a leaf of the import graph. No
// production file outside internal/api imports anything under it, except
// the wiring in internal/app; use cases speak package fault and mgapi
// instead (docs/architecture.md). Tests may import what they like.
func TestImportRule(t *testing.T) {
	t.Parallel()
	for file, imports := range productionImports(t) {
		if under(file, "internal/api") || under(file, "internal/app") {
			continue
		}
		for _, p := range imports {
			if under(p, "internal/api") {
				t.Errorf("%s imports %s: only internal/app may import the HTTP edge (see docs/architecture.md)", file, p)
			}
		}
	}
}

// TestLeafPackages: the vocabulary packages stay leaves, so that anything
// may import them without a cycle or an arrow back up.
func TestLeafPackages(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{
		"internal/fault": {},
		"internal/mgapi": {"internal/fault"},
	}
	for file, imports := range productionImports(t) {
		dir := filepath.ToSlash(filepath.Dir(file))
		ok, isLeaf := allowed[dir]
		if !isLeaf {
			continue
		}
	next:
		for _, p := range imports {
			for _, a := range ok {
				if p == a {
					continue next
				}
			}
			t.Errorf("%s imports %s; %s may import only %v of Salvo's packages", file, p, dir, ok)
		}
	}
}

// citation is a § in a Go comment and what precedes it.
var (
	sectionRef = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)
	// attribution is the nearest source named before a §: an RFC, an
	// issue, or Mailgun's contract as the repository describes it.
	attribution  = regexp.MustCompile(`(?i)(rfc ?\d+|issue \d+|docs/mailgun-contract\.md)`)
	contractHead = regexp.MustCompile(`(?m)^#{2,4} (\d+(?:\.\d+)*)\.? `)
)

// TestContractCitations: every § in a Go comment says whose section it
// is, within the 80 characters before it (an RFC, an issue, or
// docs/mailgun-contract.md), and every section cited from
// docs/mailgun-contract.md has a heading there, so a citation always
// resolves inside the repository.
func TestContractCitations(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "mailgun-contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string]bool{}
	for _, m := range contractHead.FindAllStringSubmatch(string(doc), -1) {
		heads[m[1]] = true
	}
	if len(heads) < 40 {
		t.Fatalf("docs/mailgun-contract.md has %d numbered headings; the pattern is broken", len(heads))
	}
	cited := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, g := range f.Comments {
			text := strings.Join(strings.Fields(g.Text()), " ")
			for _, m := range sectionRef.FindAllStringSubmatchIndex(text, -1) {
				before := text[max(0, m[0]-80):m[0]]
				srcs := attribution.FindAllString(before, -1)
				sec := text[m[2]:m[3]]
				switch {
				case len(srcs) == 0:
					t.Errorf("%s: §%s in %q names no source (write docs/mailgun-contract.md §%s, or the RFC)", rel, sec, before, sec)
				case strings.EqualFold(srcs[len(srcs)-1], "docs/mailgun-contract.md"):
					cited++
					if !heads[sec] {
						t.Errorf("%s: cites docs/mailgun-contract.md §%s, which has no heading there", rel, sec)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 50 {
		t.Errorf("only %d citations of docs/mailgun-contract.md found; the scan is broken", cited)
	}
}
