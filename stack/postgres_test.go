package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
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
