package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
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
				t.Errorf("%s imports %s: only internal/app may import the HTTP edge (see docs/architecture.md; scripts/unwire.sh rewrites api/wire uses)", file, p)
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
