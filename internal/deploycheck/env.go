package deploycheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Recorder is a getenv that answers from fixed values and remembers every
// key it was asked for: handed to the functions a main package passes
// os.Getenv to, it lists the variables that binary reads.
type Recorder struct {
	values map[string]string

	mu    sync.Mutex
	asked map[string]bool
}

// NewRecorder returns a Recorder that answers from values ("" for a key it
// does not hold).
func NewRecorder(values map[string]string) *Recorder {
	return &Recorder{values: values, asked: map[string]bool{}}
}

// Getenv returns the value of key and records that it was asked for.
func (r *Recorder) Getenv(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked[key] = true
	return r.values[key]
}

// Asked returns the keys asked for so far, sorted.
func (r *Recorder) Asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedKeys(r.asked)
}

// envReaders are the functions of the standard library that read the
// process environment, by package path.
var envReaders = map[string][]string{
	"os":      {"Getenv", "LookupEnv", "Environ", "ExpandEnv"},
	"syscall": {"Getenv", "Environ"},
}

// GetenvCallees reads the Go files of the package in dir (tests left out)
// and returns, sorted, the functions that os.Getenv is handed to as an
// argument, such as "config.Load". Any other read of the process environment
// (os.Getenv called or stored, os.LookupEnv, os.Environ, ...) is an error
// naming its place: a test that records what those functions ask for then
// knows every variable the package reads.
func GetenvCallees(dir string) ([]string, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	callees := map[string]bool{}
	var problems []string
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		readers := readerNames(f)
		if len(readers) == 0 {
			continue
		}
		// os.Getenv handed to a function is fine; remember those uses.
		handed := map[*ast.SelectorExpr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			for _, arg := range call.Args {
				if sel, ok := arg.(*ast.SelectorExpr); ok && readers[qualified(sel)] == "os.Getenv" {
					handed[sel] = true
					callees[types.ExprString(call.Fun)] = true
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || handed[sel] {
				return true
			}
			if name, ok := readers[qualified(sel)]; ok {
				problems = append(problems, fmt.Sprintf("%s: %s reads the environment other than by handing os.Getenv to a function",
					fset.Position(sel.Pos()), name))
			}
			return true
		})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return sortedKeys(callees), nil
}

// readerNames maps, for the imports of f, each local spelling of an
// environment reader ("os.Getenv", or "xos.Getenv" under an alias) to its
// canonical name.
func readerNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		funcs, ok := envReaders[path]
		if !ok {
			continue
		}
		local := path
		if imp.Name != nil {
			local = imp.Name.Name
		}
		for _, fn := range funcs {
			names[local+"."+fn] = path + "." + fn
		}
	}
	return names
}

// qualified spells a selector pkg.Name ("" for anything else).
func qualified(sel *ast.SelectorExpr) string {
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return id.Name + "." + sel.Sel.Name
}

var envName = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*[A-Z0-9]\b`)

// NamedKeys returns, sorted, the keys among candidates that err's message
// names: with an empty configuration, the variables that config.Require
// reports as missing.
func NamedKeys(err error, candidates []string) []string {
	if err == nil {
		return nil
	}
	want := map[string]bool{}
	for _, k := range candidates {
		want[k] = true
	}
	found := map[string]bool{}
	for _, w := range envName.FindAllString(err.Error(), -1) {
		if want[w] {
			found[w] = true
		}
	}
	return sortedKeys(found)
}
