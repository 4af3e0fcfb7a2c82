package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/config"
)

func TestStackFileHasEveryKeyInOrder(t *testing.T) {
	a := stackAddrs{
		temporal: "127.0.0.1:7233", namespace: "default", temporalUI: "http://127.0.0.1:8233",
		inventory: "postgres://inventory:p@127.0.0.1:5432/inventory?sslmode=disable",
		payments:  "postgres://payments:p@127.0.0.1:5432/payments?sslmode=disable",
		reporting: "postgres://reporting:p@127.0.0.1:5432/reporting?sslmode=disable",
		mongo:     "mongodb://127.0.0.1:27017/",
	}
	path := filepath.Join(t.TempDir(), "stack.env")
	if err := config.WriteStackFile(path, a.values(), stackFileOrder()); err != nil {
		t.Fatal(err)
	}
	got, err := config.ReadStackFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stackFileOrder() {
		if got[k] == "" {
			t.Errorf("%s missing", k)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if missing := stackFileMissing(path); len(missing) != 0 {
		t.Errorf("a complete stack file lacks %v", missing)
	}
	if !slices.Contains(stackFileOrder(), config.EnvReportingURL) || got[config.EnvReportingURL] != a.reporting {
		t.Errorf("%s: got %q, want %q", config.EnvReportingURL, got[config.EnvReportingURL], a.reporting)
	}
}

// A stack file an earlier version wrote, before the reporting database
// existed, lacks its URL: up does not take the stack for up to date, and
// completes it. Without a Web UI (an existing Temporal) nothing is missing.
func TestStackFileMissingReportingURL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stack.env")
	old := "TEMPORAL_ADDRESS=127.0.0.1:7233\nTEMPORAL_NAMESPACE=default\nTEMPORAL_UI_URL=http://127.0.0.1:8233\n" +
		"INVENTORY_DATABASE_URL=postgres://i\nPAYMENTS_DATABASE_URL=postgres://p\nMONGO_URI=mongodb://m/\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := stackFileMissing(path); !slices.Equal(got, []string{config.EnvReportingURL}) {
		t.Errorf("stack file of an earlier version: missing %v, want [%s]", got, config.EnvReportingURL)
	}
	noUI := strings.Replace(old, "TEMPORAL_UI_URL=http://127.0.0.1:8233\n", "", 1) + "REPORTING_DATABASE_URL=postgres://r\n"
	if err := os.WriteFile(path, []byte(noUI), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := stackFileMissing(path); len(got) != 0 {
		t.Errorf("stack file without a Web UI: missing %v", got)
	}
	if got := stackFileMissing(filepath.Join(dir, "none")); !slices.Equal(got, stackFileRequired()) {
		t.Errorf("no stack file: missing %v", got)
	}
}

func TestCheckWipeTargetRefusesTheRepository(t *testing.T) {
	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644)
	for _, d := range []string{repo, filepath.Dir(repo), "/"} {
		if err := checkWipeTarget(d, repo); err == nil {
			t.Errorf("%s: wipe allowed", d)
		}
	}
	if err := checkWipeTarget(filepath.Join(repo, ".data"), repo); err != nil {
		t.Errorf(".data: %v", err)
	}
	other := t.TempDir()
	os.Mkdir(filepath.Join(other, ".git"), 0o755)
	if err := checkWipeTarget(other, repo); err == nil || !strings.Contains(err.Error(), ".git") {
		t.Errorf("folder with .git: %v", err)
	}
}

func TestLoadSettingsExternalServers(t *testing.T) {
	env := map[string]string{
		config.EnvTemporalAddress: "temporal.example:7233",
		config.EnvInventoryURL:    "postgres://a",
		config.EnvMongoURI:        "mongodb://m/",
		config.EnvDataDir:         t.TempDir(),
	}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.extTemporalAddress != "temporal.example:7233" || s.extMongoURI != "mongodb://m/" {
		t.Errorf("got %+v", s)
	}
	// Only one PostgreSQL URL: ours still runs, for both.
	if s.externalPostgres() || s.pgPartial != config.EnvInventoryURL {
		t.Errorf("partial PostgreSQL: external=%v partial=%q", s.externalPostgres(), s.pgPartial)
	}
	if s.namespace != "default" {
		t.Errorf("namespace %q", s.namespace)
	}
	if err := s.checkPostgresVars(); err != nil {
		t.Errorf("partial PostgreSQL: %v", err)
	}
	// The services' URLs replace our cluster: the reporting database's
	// must be given too, and up and status say so.
	env[config.EnvPaymentsURL] = "postgres://b"
	s, _ = loadSettings(func(k string) string { return env[k] })
	if !s.externalPostgres() {
		t.Error("both URLs set: want no local PostgreSQL")
	}
	err = s.checkPostgresVars()
	if err == nil || !strings.HasPrefix(err.Error(), config.EnvReportingURL+" is not set") {
		t.Errorf("without %s: got %v", config.EnvReportingURL, err)
	}
	var out strings.Builder
	if err := (launcher{s: s, out: &out}).up(t.Context()); err == nil || !strings.Contains(err.Error(), config.EnvReportingURL) {
		t.Errorf("up without %s: got %v", config.EnvReportingURL, err)
	}
	if err := (launcher{s: s, out: &out}).status(t.Context()); err == nil || !strings.Contains(err.Error(), config.EnvReportingURL) {
		t.Errorf("status without %s: got %v", config.EnvReportingURL, err)
	}
	env[config.EnvReportingURL] = "postgres://r"
	s, _ = loadSettings(func(k string) string { return env[k] })
	if err := s.checkPostgresVars(); err != nil || !s.externalPostgres() {
		t.Errorf("three URLs set: external=%v, %v", s.externalPostgres(), err)
	}
	a := launcher{s: s}.addrs(7233, 8233, 27017, nil)
	if a.inventory != "postgres://a" || a.payments != "postgres://b" || a.reporting != "postgres://r" {
		t.Errorf("published addresses %+v: want the existing servers'", a)
	}
	// The reporting database's URL alone: ours still runs, for all.
	delete(env, config.EnvInventoryURL)
	delete(env, config.EnvPaymentsURL)
	s, _ = loadSettings(func(k string) string { return env[k] })
	if s.externalPostgres() || s.pgPartial != config.EnvReportingURL || s.checkPostgresVars() != nil {
		t.Errorf("reporting URL alone: external=%v partial=%q", s.externalPostgres(), s.pgPartial)
	}
}

func TestTemporalArgsHaveSearchAttributes(t *testing.T) {
	s := settings{dataDir: "/d", namespace: "default"}
	args := strings.Join(temporalArgs(s, 7233, 8233), " ")
	for _, want := range []string{"--ip 127.0.0.1", "--port 7233", "--ui-port 8233", "--db-filename /d/temporal/temporal.db",
		"journal_mode=wal", "synchronous=normal", "system.enableActivityEagerExecution=true", "history.transferProcessorMaxPollRPS=200",
		"--search-attribute OrderId=Keyword", "--search-attribute CustomerId=Keyword",
		"--search-attribute SagaStatus=Keyword", "--search-attribute FailedStep=Keyword"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
}

func TestTemporalArgsCodecEndpoint(t *testing.T) {
	s := settings{dataDir: "/d", namespace: "default"}
	if args := strings.Join(temporalArgs(s, 7233, 8233), " "); strings.Contains(args, "--ui-codec-endpoint") {
		t.Errorf("no endpoint set, yet: %s", args)
	}
	s, err := loadSettings(func(k string) string {
		return map[string]string{envUICodecEndpoint: "http://127.0.0.1:8234", config.EnvDataDir: t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(temporalArgs(s, 7233, 8233), " "); !strings.Contains(args, "--ui-codec-endpoint http://127.0.0.1:8234") {
		t.Errorf("args lack the codec endpoint: %s", args)
	}
}

func TestVersionLineMatches(t *testing.T) {
	if !versionLineMatches("temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)\n", "1.5.1") {
		t.Error("1.5.1 not recognised")
	}
	if versionLineMatches("temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)\n", "1.5.1") {
		t.Error("a dev build taken for 1.5.1")
	}
}
