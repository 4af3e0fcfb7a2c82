package main

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// syncBuffer is a buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBinaryStandsByAndStopsOnSIGTERM builds the projector binary and runs
// it on a read store of the test's own (a schema of the reporting
// database) whose lease the test holds: it connects to every store,
// migrates the read store, stands by, and stops at once, exit 0, on
// SIGTERM. (It never leads here, so it reads none of the stack's events.)
func TestBinaryStandsByAndStopsOnSIGTERM(t *testing.T) {
	cfg := testenv.Config(t, config.EnvReportingURL, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Reporting)
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	store := readstore.New(pool)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.Acquire(ctx, readstore.LeaseName, "the-test", time.Hour, time.Second); err != nil || !ok {
		t.Fatalf("the test's lease: %v %v", ok, err)
	}
	u, err := url.Parse(cfg.ReportingURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	bin := filepath.Join(t.TempDir(), "projector")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--log-format", "json", "--metrics-listen", "off")
	cmd.Env = append(os.Environ(), config.EnvReportingURL+"="+u.String())
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "projector standing by") {
		select {
		case err := <-exited:
			t.Fatalf("exited before standing by: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("not standing by after 30 s:\n%s", out.String())
		}
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'order_view'`,
		schema).Scan(&tables); err != nil || tables != 1 {
		t.Fatalf("the read store's views in %s: %d (%v)", schema, tables, err)
	}
	time.Sleep(1500 * time.Millisecond) // a standby's try at the lease, refused
	if st, err := store.LeaseState(ctx, readstore.LeaseName); err != nil || st.Holder != "the-test" {
		t.Fatalf("lease %+v (%v): the binary took a lease the test holds", st, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("SIGTERM: exit %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running 10 s after SIGTERM:\n%s", out.String())
	}
}
