package deploycheck_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/internal/deploycheck"
)

func writePackage(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGetenvCallees(t *testing.T) {
	dir := writePackage(t, map[string]string{
		"main.go": `package main

import (
	"os"

	"example.com/config"
)

func main() {
	cfg, _ := config.Load(os.Getenv)
	command(cfg, os.Getenv)
}
`,
		"other.go": `package main

func command(any, func(string) string) {}
`,
		// Tests may read the environment as they like.
		"main_test.go": `package main

import "os"

var home = os.Getenv("HOME")
`,
	})
	got, err := deploycheck.GetenvCallees(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"command", "config.Load"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GetenvCallees = %v, want %v", got, want)
	}
}

func TestGetenvCalleesRefusesOtherReads(t *testing.T) {
	for name, body := range map[string]string{
		"direct call":   `var v = os.Getenv("X")`,
		"stored":        `var getenv = os.Getenv`,
		"lookup":        `var _, ok = os.LookupEnv("X")`,
		"whole environ": `var env = os.Environ()`,
		"expand":        `var s = os.ExpandEnv("$X")`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writePackage(t, map[string]string{"main.go": "package main\n\nimport \"os\"\n\n" + body + "\n"})
			if _, err := deploycheck.GetenvCallees(dir); err == nil || !strings.Contains(err.Error(), "main.go:5") {
				t.Errorf("GetenvCallees = %v, want an error naming main.go:5", err)
			}
		})
	}
	t.Run("aliased import", func(t *testing.T) {
		dir := writePackage(t, map[string]string{"main.go": "package main\n\nimport xos \"os\"\n\nvar v = xos.Getenv(\"X\")\n"})
		if _, err := deploycheck.GetenvCallees(dir); err == nil || !strings.Contains(err.Error(), "os.Getenv") {
			t.Errorf("GetenvCallees = %v, want an error naming os.Getenv", err)
		}
	})
}

func TestRecorder(t *testing.T) {
	r := deploycheck.NewRecorder(map[string]string{"A": "1"})
	if got := r.Getenv("A"); got != "1" {
		t.Errorf("Getenv(A) = %q, want 1", got)
	}
	if got := r.Getenv("B"); got != "" {
		t.Errorf("Getenv(B) = %q, want empty", got)
	}
	if got, want := r.Asked(), []string{"A", "B"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Asked = %v, want %v", got, want)
	}
}

func TestNamedKeys(t *testing.T) {
	err := errors.New("INVENTORY_DATABASE_URL, MONGO_URI not set: run `make up`, or set INVENTORY_DATABASE_URL / MONGO_URI")
	got := deploycheck.NamedKeys(err, []string{"MONGO_URI", "INVENTORY_DATABASE_URL", "TEMPORAL_ADDRESS", "MONGO"})
	if want := []string{"INVENTORY_DATABASE_URL", "MONGO_URI"}; !reflect.DeepEqual(got, want) {
		t.Errorf("NamedKeys = %v, want %v", got, want)
	}
	if got := deploycheck.NamedKeys(nil, []string{"MONGO_URI"}); got != nil {
		t.Errorf("NamedKeys(nil) = %v, want nil", got)
	}
}

func TestCheckEnv(t *testing.T) {
	set := map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "UNREAD": "x", "MONGO_URI": ""}
	problems := deploycheck.CheckEnv("worker", set, []string{"TEMPORAL_ADDRESS", "MONGO_URI"}, []string{"TEMPORAL_ADDRESS", "MONGO_URI"})
	if len(problems) != 2 || !strings.Contains(problems[0], "UNREAD") || !strings.Contains(problems[1], "needs MONGO_URI") {
		t.Errorf("CheckEnv = %q, want one line for UNREAD and one for MONGO_URI", problems)
	}
}

func TestServerHosts(t *testing.T) {
	got, err := deploycheck.ServerHosts(map[string]string{
		"TEMPORAL_ADDRESS":       "temporal:7233",
		"INVENTORY_DATABASE_URL": "postgres://inventory:pw@postgres:5432/inventory?sslmode=disable",
		"MONGO_URI":              "mongodb://mongo1:27017,mongo2:27017/?replicaSet=rs0",
		"SAGAFLOW_LOG_FORMAT":    "json",
		"PAYMENTS_DATABASE_URL":  "",
		"REPORTING_DATABASE_URL": "postgres://reporting:pw@reporting-db:5432/reporting?sslmode=disable",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"TEMPORAL_ADDRESS":       {"temporal"},
		"INVENTORY_DATABASE_URL": {"postgres"},
		"REPORTING_DATABASE_URL": {"reporting-db"},
		"MONGO_URI":              {"mongo1", "mongo2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ServerHosts = %v, want %v", got, want)
	}
	if _, err := deploycheck.ServerHosts(map[string]string{"TEMPORAL_ADDRESS": "temporal"}); err == nil {
		t.Error("ServerHosts accepted TEMPORAL_ADDRESS without a port")
	}
}
