package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	for arg, want := range map[string]string{
		"temporal": nameTemporal,
		"postgres": namePostgres,
		"ferretdb": nameFerretDB,
		"mongo":    nameFerretDB,
		"worker":   nameWorker,
	} {
		got, err := parseServer(arg)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", arg, got, err, want)
		}
	}
	for _, arg := range []string{"", "workers", "postgresql", "Temporal", "mongodb", " temporal", "all"} {
		_, err := parseServer(arg)
		if err == nil {
			t.Errorf("%q: accepted", arg)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "temporal, postgres, ferretdb") || !strings.Contains(msg, "mongo") || !strings.Contains(msg, "worker") {
			t.Errorf("%q: want one line naming the valid servers, got %q", arg, msg)
		}
	}
}

func TestStopCommandArgs(t *testing.T) {
	cmd := stopCommand(settings{}, nil)
	for _, args := range [][]string{nil, {"temporal", "postgres"}, {"redis"}} {
		if err := cmd.Args(cmd, args); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
	if err := cmd.Args(cmd, []string{"mongo"}); err != nil {
		t.Errorf("mongo: %v", err)
	}
}

func TestPortsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ports := map[string]string{"port": "7300", "ui_port": "8300"}
	if err := writePortsFile(dir, nameTemporal, ports); err != nil {
		t.Fatal(err)
	}
	if got := readPortsFile(dir, nameTemporal); !maps.Equal(got, ports) {
		t.Errorf("got %v, want %v", got, ports)
	}
	if err := forgetPorts(dir, nameTemporal); err != nil {
		t.Fatal(err)
	}
	if got := readPortsFile(dir, nameTemporal); got != nil {
		t.Errorf("after forget: got %v", got)
	}
	if err := forgetPorts(dir, nameTemporal); err != nil {
		t.Errorf("forgetting twice: %v", err)
	}
	// Nothing to keep: no file.
	if err := writePortsFile(dir, nameFerretDB, nil); err != nil {
		t.Fatal(err)
	}
	if fileExists(portsFilePath(dir, nameFerretDB)) {
		t.Error("empty ports written")
	}
}

func TestOnlyPortsKeepsPorts(t *testing.T) {
	got := onlyPorts(map[string]string{"port": "5432", "cluster": "/c", "bin": "/b", "socket": "/s"})
	if !maps.Equal(got, map[string]string{"port": "5432"}) {
		t.Errorf("got %v", got)
	}
	if onlyPorts(map[string]string{"log": "/l"}) != nil {
		t.Error("no ports: want nil")
	}
}

// previousPorts: the pid file (even of a dead server) first, then the
// ports stop kept, and nothing without a stack file.
func TestPreviousPorts(t *testing.T) {
	data := t.TempDir()
	la := launcher{s: settings{dataDir: data}}
	run := la.s.runDir()
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePortsFile(run, nameFerretDB, map[string]string{"port": "27100"}); err != nil {
		t.Fatal(err)
	}
	if err := writeRunRecord(run, nameTemporal, runRecord{pid: 99999999, info: map[string]string{"port": "7300", "ui_port": "8300"}}); err != nil {
		t.Fatal(err)
	}
	if got := la.previousPorts(nameFerretDB); got != nil {
		t.Errorf("no stack file: got %v", got)
	}
	if err := os.WriteFile(filepath.Join(data, "stack.env"), []byte("X=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := la.previousPorts(nameFerretDB); infoPort(got, "port", 0) != 27100 {
		t.Errorf("ferretdb: got %v", got)
	}
	if got := la.previousPorts(nameTemporal); infoPort(got, "ui_port", 0) != 8300 {
		t.Errorf("temporal: got %v", got)
	}
	if got := la.previousPorts(namePostgres); got != nil {
		t.Errorf("postgres: got %v", got)
	}
}

func TestOnAddress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ports map[string]string
		want  string
	}{
		{nameTemporal, map[string]string{"port": "7233", "ui_port": "8233"}, " on 127.0.0.1:7233 (Web UI http://127.0.0.1:8233)"},
		{namePostgres, map[string]string{"port": "5432"}, " on 127.0.0.1:5432"},
		{nameFerretDB, map[string]string{"port": "27017"}, " on mongodb://127.0.0.1:27017/"},
		{nameFerretDB, nil, ""},
	} {
		if got := onAddress(tc.name, tc.ports); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A server restarting on the port the stack file publishes cannot be moved
// by its variable: the message says so instead of naming it.
func TestPortInUseErrorForAKeptPort(t *testing.T) {
	spec := ports{temporal: 7233}.temporalSpec().at(7300).kept()
	msg := portInUseError(spec).Error()
	if !strings.Contains(msg, "7300") || strings.Contains(msg, envTemporalPort) || !strings.Contains(msg, "make down") {
		t.Errorf("got %q", msg)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q is not one line", msg)
	}
}
