package main

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/config"
)

// The backend's URL holds a password: it goes to the runner through its
// environment, never its command line, and an inherited value is replaced.
func TestFerretDBURLGoesThroughTheEnvironment(t *testing.T) {
	const pgURL = "postgres://ferretdb:secret@127.0.0.1:5432/ferretdb?sslmode=disable"
	for _, a := range ferretDBArgs(27017) {
		if strings.Contains(a, "secret") || strings.Contains(a, "postgres") {
			t.Errorf("argument %q shows the backend", a)
		}
	}
	env := ferretDBEnv([]string{"PATH=/bin", envFerretDBPostgresURL + "=postgres://old", "SAGAFLOW_DATA_DIR=rel"}, "/abs/.data", pgURL)
	want := []string{"PATH=/bin", "SAGAFLOW_DATA_DIR=/abs/.data", "GOGC=400", "GOMEMLIMIT=1GiB", envFerretDBPostgresURL + "=" + pgURL}
	if !slices.Equal(env, want) {
		t.Errorf("got %v, want %v", env, want)
	}
}

// FerretDB's collector runs less often than Go's default, unless the
// launcher's environment says otherwise.
func TestFerretDBGCSettingsYieldToTheEnvironment(t *testing.T) {
	env := ferretDBEnv([]string{"GOGC=50"}, "/abs/.data", "postgres://f")
	want := []string{"GOGC=50", "SAGAFLOW_DATA_DIR=/abs/.data", "GOMEMLIMIT=1GiB", envFerretDBPostgresURL + "=postgres://f"}
	if !slices.Equal(env, want) {
		t.Errorf("got %v, want %v", env, want)
	}
}

// Our FerretDB is known by its environment; one an earlier version started
// on SQLite by its -data-dir argument; another data folder's is not ours.
func TestFerretDBIdentities(t *testing.T) {
	root := t.TempDir()
	s := settings{repoRoot: "/repo", dataDir: "/repo/.data"}
	write := func(pid int, cmdline, environ string) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := strconv.Itoa(pid) + " (sagaflow-ferret) S 1 " + strconv.Itoa(pid) + " 0 0"
		for name, data := range map[string]string{"stat": stat, "cmdline": cmdline, "environ": environ} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	exe := "/repo/.tools/bin/sagaflow-ferretdb\x00-listen\x00127.0.0.1:27017\x00-log-level\x00error\x00"
	write(20, exe, "PATH=/bin\x00SAGAFLOW_DATA_DIR=/repo/.data\x00"+envFerretDBPostgresURL+"=postgres://x\x00")
	write(21, exe, "PATH=/bin\x00SAGAFLOW_DATA_DIR=/other/.data\x00")
	write(22, "/repo/.tools/bin/sagaflow-ferretdb\x00-listen\x00127.0.0.1:27017\x00-data-dir\x00/repo/.data/ferretdb\x00", "PATH=/bin\x00")
	write(23, "/repo/.tools/bin/sagaflow-ferretdb\x00-data-dir\x00/other/.data/ferretdb\x00", "PATH=/bin\x00")
	write(24, "/repo/.tools/bin/sagaflow-worker\x00", "SAGAFLOW_DATA_DIR=/repo/.data\x00")
	got := findProcesses(root, ferretDBIdentities(s)...)
	if !slices.Equal(got, []int{20, 22}) {
		t.Errorf("ours: got %v, want [20 22]", got)
	}
	if !isOurProcess(root, 22, sqliteFerretDBIdentity(s)) || isOurProcess(root, 20, sqliteFerretDBIdentity(s)) {
		t.Error("only pid 22 runs on SQLite")
	}
}

func TestPoolParams(t *testing.T) {
	const plain = "postgres://ferretdb:pw@127.0.0.1:5432/ferretdb?sslmode=disable"
	bounded := withPoolMaxConns(plain, 30)
	u, err := url.Parse(bounded)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("pool_max_conns") != "30" || q.Get("sslmode") != "disable" || u.User.String() != "ferretdb:pw" {
		t.Errorf("got %s", bounded)
	}
	if got := withPoolMaxConns(plain+"&pool_max_conns=5", 30); !strings.Contains(got, "pool_max_conns=5") || strings.Contains(got, "30") {
		t.Errorf("a bound already set was changed: %s", got)
	}
	if got := withoutPoolParams(bounded); got != plain {
		t.Errorf("without pool params: got %s, want %s", got, plain)
	}
}

func TestSQLiteDataFiles(t *testing.T) {
	dir := t.TempDir()
	if files, err := sqliteDataFiles(filepath.Join(dir, "missing")); err != nil || files != nil {
		t.Errorf("missing folder: got %v, %v", files, err)
	}
	for _, name := range []string{"orders.sqlite", "orders.sqlite-wal", "orders.sqlite-shm", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "x.sqlite"), 0o755); err != nil {
		t.Fatal(err)
	}
	if files, err := sqliteDataFiles(dir); err != nil || !slices.Equal(files, []string{"orders.sqlite"}) {
		t.Errorf("got %v, %v", files, err)
	}
}

func TestErrSQLiteNotMigratedIsOneLineWithTheFix(t *testing.T) {
	msg := errSQLiteNotMigrated("/repo/.data/ferretdb").Error()
	for _, want := range []string{"/repo/.data/ferretdb", "make down && make wipe && make up", "not migrated", "ferretdb"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("not one line: %q", msg)
	}
}

// With the services' PostgreSQL replaced, our FerretDB needs a database of
// its own, named by a variable; with MONGO_URI it is not started at all.
func TestCheckFerretDBBackendWithExistingPostgres(t *testing.T) {
	s := settings{extInventoryURL: "postgres://a", extPaymentsURL: "postgres://b", extReportingURL: "postgres://r"}
	r := &upRun{launcher: launcher{s: s}}
	r.toStart.ferret = true
	err := r.checkFerretDBBackend()
	if err == nil || !strings.Contains(err.Error(), envFerretDBPostgresURL) || !strings.Contains(err.Error(), config.EnvMongoURI) {
		t.Errorf("got %v", err)
	}
	r.s.extFerretDBPostgresURL = "postgres://f:pw@db.example:5432/ferretdb"
	if err := r.checkFerretDBBackend(); err != nil {
		t.Errorf("with %s: %v", envFerretDBPostgresURL, err)
	}
	r.s.extFerretDBPostgresURL, r.s.extMongoURI = "", "mongodb://m/"
	if err := r.checkFerretDBBackend(); err != nil {
		t.Errorf("with %s: %v", config.EnvMongoURI, err)
	}
}
