package main

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/config"
)

func TestPGFallbackBaseIsStableAndShort(t *testing.T) {
	a := pgFallbackBase("/root/ci/sagaflow/.data")
	if a != pgFallbackBase("/root/ci/sagaflow/.data") {
		t.Error("not stable")
	}
	if a == pgFallbackBase("/root/other/.data") {
		t.Error("two data folders share a cluster")
	}
	if filepath.Dir(a) != pgFallbackRoot || len(filepath.Base(a)) != 12 {
		t.Errorf("got %s", a)
	}
}

func TestSocketDirFitsInSunPath(t *testing.T) {
	short := "/work/main/.data/postgres"
	if got := socketDirFor(short, "/work/main/.data", 5432); got != short {
		t.Errorf("short path moved to %s", got)
	}
	long := "/" + strings.Repeat("x", 120) + "/postgres"
	got := socketDirFor(long, "/d", 5432)
	if got == long || len(got)+len("/.s.PGSQL.5432") > maxSocketPath {
		t.Errorf("long path: got %s", got)
	}
}

func TestParsePostmasterPID(t *testing.T) {
	data := "22673\n/work/main/.data/postgres\n1764135507\n5432\n/work/main/.data/postgres\n127.0.0.1\n  5432001         0\nready   \n"
	pm, ok := parsePostmasterPID([]byte(data))
	if !ok || pm.pid != 22673 || pm.port != 5432 || pm.socketDir != "/work/main/.data/postgres" {
		t.Errorf("got %+v %v", pm, ok)
	}
	if _, ok := parsePostmasterPID([]byte("123\n")); ok {
		t.Error("a truncated file parsed")
	}
}

func TestPGServiceURL(t *testing.T) {
	raw := pgServiceURL(15432, "inventory", "abc123")
	if raw != "postgres://inventory:abc123@127.0.0.1:15432/inventory?sslmode=disable" {
		t.Errorf("got %s", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(redact(raw), "abc123") || u.Path != "/inventory" {
		t.Errorf("redacted %s", redact(raw))
	}
}

func TestPGMajorPicksNewest(t *testing.T) {
	if pgMajor("/usr/lib/postgresql/15/bin") != 15 || pgMajor("/usr/lib/postgresql/9.6/bin") != 9 {
		t.Error("pgMajor")
	}
}

func TestIsolationProblems(t *testing.T) {
	roles := pgDatabases()
	for _, want := range []string{"inventory", "payments", pgReporting, pgFerretDB} {
		if !slices.Contains(roles, want) {
			t.Errorf("the cluster's databases %v lack %s", roles, want)
		}
	}
	var privs []connectPrivilege
	for _, r := range roles {
		for _, db := range append([]string{"postgres", "template1"}, roles...) {
			privs = append(privs, connectPrivilege{role: r, db: db, can: r == db})
		}
	}
	if bad := isolationProblems(privs, roles); len(bad) != 0 {
		t.Errorf("isolated cluster: %v", bad)
	}
	leaky := append(slices.Clone(privs), connectPrivilege{role: "inventory", db: pgFerretDB, can: true})
	if bad := isolationProblems(leaky, roles); len(bad) != 1 || !strings.Contains(bad[0], "inventory on ferretdb") {
		t.Errorf("inventory reaches ferretdb: got %v", bad)
	}
	// The read store reaches no write store.
	leaky = append(slices.Clone(privs), connectPrivilege{role: pgReporting, db: "payments", can: true})
	if bad := isolationProblems(leaky, roles); len(bad) != 1 || !strings.Contains(bad[0], "reporting on payments") {
		t.Errorf("reporting reaches payments: got %v", bad)
	}
	var noReporting []connectPrivilege
	for _, p := range privs {
		if p.db != pgReporting {
			noReporting = append(noReporting, p)
		}
	}
	if bad := isolationProblems(noReporting, roles); len(bad) != 1 || !strings.Contains(bad[0], "no database reporting") {
		t.Errorf("no reporting database: got %v", bad)
	}
	var noFerret []connectPrivilege
	for _, p := range privs {
		if p.db != pgFerretDB {
			noFerret = append(noFerret, p)
		}
	}
	if bad := isolationProblems(noFerret, roles); len(bad) != 1 || !strings.Contains(bad[0], "no database ferretdb") {
		t.Errorf("no ferretdb database: got %v", bad)
	}
}

// A cluster made before FerretDB moved to PostgreSQL, or before the
// reporting database existed, has a passwords file without FerretDB's role
// or the reporting role: it gains them and keeps the others.
func TestLoadOrCreatePasswordsAddsNewRoles(t *testing.T) {
	l := pgLayout{clusterDir: t.TempDir()}
	path := filepath.Join(l.clusterDir, pgPasswordFile)
	if err := os.WriteFile(path, []byte("inventory=aaa\npayments=bbb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw, err := l.loadOrCreatePasswords()
	if err != nil {
		t.Fatal(err)
	}
	if pw["inventory"] != "aaa" || pw["payments"] != "bbb" || len(pw[pgFerretDB]) != 36 || len(pw[pgReporting]) != 36 {
		t.Errorf("got %v", pw)
	}
	again, err := l.loadOrCreatePasswords()
	if err != nil || !maps.Equal(again, pw) {
		t.Errorf("second load: got %v, %v", again, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

// The stack file publishes the services' URLs and the reporting
// database's, not FerretDB's.
func TestStackFileLeavesOutFerretDBsURL(t *testing.T) {
	urls := pgURLs(5432, map[string]string{"inventory": "i", "payments": "p", pgReporting: "r", pgFerretDB: "f"})
	if !strings.Contains(urls[pgFerretDB], "ferretdb:f@127.0.0.1:5432/ferretdb") {
		t.Errorf("ferretdb URL %q", urls[pgFerretDB])
	}
	a := launcher{s: settings{namespace: "default"}}.addrs(7233, 8233, 27017, urls)
	values := a.values()
	for k, v := range values {
		if strings.Contains(v, "ferretdb:") {
			t.Errorf("%s publishes FerretDB's password: %s", k, v)
		}
	}
	if got := values[config.EnvReportingURL]; got != "postgres://reporting:r@127.0.0.1:5432/reporting?sslmode=disable" {
		t.Errorf("%s = %q", config.EnvReportingURL, got)
	}
}

func TestWriteConfRaisesMaxConnections(t *testing.T) {
	l := pgLayout{clusterDir: t.TempDir(), socketDir: "/tmp/s"}
	if err := l.writeConf(5432); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(l.clusterDir, pgConfFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), fmt.Sprintf("max_connections = %d", pgMaxConnections)) || !strings.Contains(string(data), "port = 5432") {
		t.Errorf("got:\n%s", data)
	}
}
