package saga_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// applicationModules are modules of sagaflow's application (its FerretDB
// runner, Web UI tests, compose checks, fault injection, benchmarks and
// command lines) that a team using the engine must not get.
var applicationModules = []string{
	"github.com/FerretDB/FerretDB",
	"github.com/chromedp/",
	"github.com/compose-spec/compose-go",
	"github.com/Shopify/toxiproxy",
	"gonum.org/v1/plot",
	"github.com/spf13/cobra",
	"github.com/sagaflow/sagaflow ", // the application's own module
}

// TestANewModuleGetsTheEngineAlone makes a new Go module, as a team would,
// that gets the engine (at a version its go.mod replaces with this
// folder, since the module is not published here), and checks its build
// list (go list -m all) holds none of the application's modules, and
// that a program importing the PostgreSQL barrier compiles no MongoDB
// package and the reverse.
func TestANewModuleGetsTheEngineAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	engine, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	write("go.mod", "module example.com/newteam\n\ngo 1.26\n")
	write("pgonly/main.go", `package main

import (
	_ "github.com/sagaflow/sagaflow/saga"
	_ "github.com/sagaflow/sagaflow/saga/pgbarrier"
)

func main() {}
`)
	write("mongoonly/main.go", `package main

import (
	_ "github.com/sagaflow/sagaflow/saga"
	_ "github.com/sagaflow/sagaflow/saga/mongobarrier"
)

func main() {}
`)
	goCmd("mod", "edit", "-replace", "github.com/sagaflow/sagaflow/saga@v0.1.0="+engine)
	goCmd("get", "github.com/sagaflow/sagaflow/saga@v0.1.0")
	goCmd("mod", "tidy")
	goCmd("build", "./...")

	buildList := goCmd("list", "-m", "all")
	if !strings.Contains(buildList, "github.com/sagaflow/sagaflow/saga v0.1.0 => ") {
		t.Fatalf("the engine is not in the build list:\n%s", buildList)
	}
	for _, m := range applicationModules {
		for _, line := range strings.Split(buildList, "\n") {
			if strings.HasPrefix(line+" ", m) {
				t.Errorf("the build list holds %s", line)
			}
		}
	}
	for pkg, foreign := range map[string]string{"./pgonly": "go.mongodb.org/", "./mongoonly": "github.com/jackc/"} {
		for _, dep := range strings.Fields(goCmd("list", "-deps", pkg)) {
			if strings.HasPrefix(dep, foreign) {
				t.Errorf("%s compiles %s", pkg, dep)
			}
		}
	}
}
