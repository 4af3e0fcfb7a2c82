package saga_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The engine's public packages: every folder of this module holding Go
// files, but internal/.
func publicPackages(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "internal" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// parseDir parses the Go files of dir that pass keep.
func parseDir(t *testing.T, fset *token.FileSet, dir string, keep func(name string) bool) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || !keep(e.Name()) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// undocumented lists the exported names of p without a doc comment (a
// name in a documented group of constants or variables counts as
// documented).
func undocumented(p *doc.Package) []string {
	var out []string
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue
			}
			for _, spec := range v.Decl.Specs {
				if vs := spec.(*ast.ValueSpec); vs.Doc == nil && vs.Comment == nil && ast.IsExported(vs.Names[0].Name) {
					out = append(out, vs.Names[0].Name)
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if f.Doc == "" {
				out = append(out, prefix+f.Name)
			}
		}
	}
	if p.Doc == "" {
		out = append(out, "package "+p.Name)
	}
	values(p.Consts)
	values(p.Vars)
	funcs("", p.Funcs)
	for _, typ := range p.Types {
		if typ.Doc == "" {
			out = append(out, typ.Name)
		}
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
	return out
}

// TestEveryPublicPackageIsDocumented: each package of the engine has a
// package comment and a doc comment on every exported name, and at least
// one runnable example (an Example function with an Output comment, which
// go test runs and go doc -http shows).
func TestEveryPublicPackageIsDocumented(t *testing.T) {
	dirs := publicPackages(t)
	if len(dirs) < 5 {
		t.Fatalf("found only the packages %v", dirs)
	}
	for _, dir := range dirs {
		fset := token.NewFileSet()
		src := parseDir(t, fset, dir, func(name string) bool { return !strings.HasSuffix(name, "_test.go") })
		p, err := doc.NewFromFiles(fset, src, "github.com/sagaflow/sagaflow/saga/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		if missing := undocumented(p); len(missing) > 0 {
			t.Errorf("%s: no doc comment on %s", dir, strings.Join(missing, "; "))
		}
		runnable := 0
		for _, ex := range doc.Examples(parseDir(t, fset, dir, func(name string) bool { return strings.HasSuffix(name, "_test.go") })...) {
			if ex.Output != "" || ex.EmptyOutput {
				runnable++
			}
		}
		if runnable == 0 {
			t.Errorf("%s: no runnable example (an Example function with an // Output: comment)", dir)
		}
	}
}
