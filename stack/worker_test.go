package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A worker log as the launcher leaves it: an earlier run that stopped,
// then this run's header and its JSON lines.
const sampleWorkerLog = `
=== 2025-01-01T10:00:00Z sagaflow stack: starting /repo/.tools/bin/sagaflow-worker --log-format json
{"level":"info","ts":"2025-01-01T10:00:01.000Z","msg":"stores ready, schemas migrated"}
{"level":"info","ts":"2025-01-01T10:00:02.000Z","msg":"worker running","regions":["eu","us"],"temporal":"127.0.0.1:7233","namespace":"default","concurrency":64}
{"level":"info","ts":"2025-01-01T10:05:00.000Z","msg":"stopped"}

=== 2025-01-01T11:00:00Z sagaflow stack: starting /repo/.tools/bin/sagaflow-worker --log-format json
{"level":"info","ts":"2025-01-01T11:00:01.000Z","msg":"stores ready, schemas migrated"}
{"level":"info","ts":"2025-01-01T11:00:01.500Z","msg":"Started Worker","Namespace":"default","TaskQueue":"orders-eu","note":"not the worker running line"}
`

func TestWorkerReadyIn(t *testing.T) {
	thisRun := sampleWorkerLog[strings.LastIndex(sampleWorkerLog, "\n===")+1:]
	if !workerReadyIn([]byte(sampleWorkerLog)) {
		t.Error("the whole log holds a ready line")
	}
	if workerReadyIn([]byte(thisRun)) {
		t.Error("this run has not logged its ready line yet")
	}
	ready := `{"level":"info","ts":"2025-01-01T11:00:02.000Z","msg":"worker running","regions":["eu","us"]}` + "\n"
	if !workerReadyIn([]byte(thisRun + ready)) {
		t.Error("ready line not found")
	}
	// A line still being written is not taken, nor the words elsewhere.
	for _, log := range []string{
		thisRun + ready[:40],
		thisRun + `{"level":"error","msg":"dial","error":"worker running? no"}` + "\n",
		thisRun + "worker running\n",
		"",
	} {
		if workerReadyIn([]byte(log)) {
			t.Errorf("taken for ready: %q", log[max(0, len(log)-80):])
		}
	}
}

func TestReadFromStartsAtOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worker.log")
	old := `{"msg":"worker running"}` + "\n"
	if err := os.WriteFile(path, []byte(old+"new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readFrom(path, int64(len(old)))
	if err != nil || string(got) != "new\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestWorkerEnvSetsTheDataDir(t *testing.T) {
	env := workerEnv([]string{"PATH=/bin", "SAGAFLOW_DATA_DIR=rel", "MONGO_URI=mongodb://m/"}, "/abs/.data")
	want := []string{"PATH=/bin", "MONGO_URI=mongodb://m/", "SAGAFLOW_DATA_DIR=/abs/.data"}
	if !slices.Equal(env, want) {
		t.Errorf("got %v, want %v", env, want)
	}
}

func TestIsOurProcessChecksTheEnvironment(t *testing.T) {
	root := t.TempDir()
	s := settings{repoRoot: "/repo", dataDir: "/repo/.data"}
	id := workerIdentity(s)
	exe := "/repo/.tools/bin/sagaflow-worker\x00--log-format\x00json\x00"
	write := func(pid int, cmdline, environ string) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := strconv.Itoa(pid) + " (sagaflow-worke) S 1 " + strconv.Itoa(pid) + " 0 0"
		os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
		os.WriteFile(filepath.Join(dir, "environ"), []byte(environ), 0o644)
	}
	write(20, exe, "PATH=/bin\x00SAGAFLOW_DATA_DIR=/repo/.data\x00")
	write(21, exe, "PATH=/bin\x00SAGAFLOW_DATA_DIR=/other/.data\x00")
	write(22, exe, "SAGAFLOW_DATA_DIR=/repo/.data/x\x00")
	write(23, "/go-build/exe/worker\x00", "SAGAFLOW_DATA_DIR=/repo/.data\x00")
	if got := findProcesses(root, id); !slices.Equal(got, []int{20}) {
		t.Errorf("findProcesses: got %v, want [20]", got)
	}
}

func TestBinaryIsStale(t *testing.T) {
	repo := t.TempDir()
	write := func(rel string, at time.Time) {
		p := filepath.Join(repo, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	write("go.mod", t0)
	write("worker/main.go", t0)
	write("services/inventory/migrations/0001.sql", t0)
	bin := filepath.Join(repo, ".tools", "bin", "sagaflow-worker")
	src := moduleSources{dir: repo, isSource: isGoBuildInput, skip: []string{filepath.Join(repo, "data")}}

	stale := func() bool {
		t.Helper()
		got, err := binaryIsStale(bin, src)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if !stale() {
		t.Error("a missing binary is stale")
	}
	write(".tools/bin/sagaflow-worker", t0.Add(time.Minute))
	if stale() {
		t.Error("a binary newer than every source is not stale")
	}
	// None of these is a source of the main module's binary.
	later := t0.Add(2 * time.Minute)
	for _, rel := range []string{
		"worker/run_test.go", "README.md", ".data/logs/worker.log", ".git/index",
		"stack/ferretdb/go.mod", "stack/ferretdb/main.go", "data/x.go", "worker/testdata/a.go",
	} {
		write(rel, later)
		if stale() {
			t.Errorf("%s made the binary stale", rel)
		}
	}
	for _, rel := range []string{"worker/main.go", "services/inventory/migrations/0001.sql", "go.sum"} {
		write(".tools/bin/sagaflow-worker", later)
		write(rel, later.Add(time.Minute))
		if !stale() {
			t.Errorf("%s newer than the binary: not stale", rel)
		}
		later = later.Add(2 * time.Minute)
	}
}

func TestNewestModTimeOfFerretDBModule(t *testing.T) {
	dir := t.TempDir()
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, name := range []string{"go.mod", "go.sum", "main.go"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o644)
		ts := at.Add(time.Duration(i) * time.Minute)
		os.Chtimes(p, ts, ts)
	}
	// Every file counts, the module's own go.mod included.
	got, err := moduleSources{dir: dir}.newestModTime()
	if err != nil || !got.Equal(at.Add(2*time.Minute)) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := (moduleSources{dir: t.TempDir()}).newestModTime(); err == nil {
		t.Error("an empty module has no sources: want an error")
	}
}
