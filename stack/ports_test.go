package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestPortInUseErrorNamesPortPurposeAndOverride(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	p, err := parsePorts(func(k string) string {
		if k == envMongoPort {
			return strconv.Itoa(port)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	err = checkPortsFree([]portSpec{p.mongoSpec()})
	if err == nil {
		t.Fatalf("port %d is bound, want an error", port)
	}
	msg := err.Error()
	for _, want := range []string{strconv.Itoa(port), "MongoDB", envMongoPort, "already in use"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q is not one line", msg)
	}
}

func TestFreePortPasses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := checkPortFree(portSpec{port, "test", "X"}); err != nil {
		t.Fatalf("free port %d: %v", port, err)
	}
}

func TestParsePorts(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	p, err := parsePorts(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p != (ports{temporal: 7233, temporalUI: 8233, postgres: 5432, mongo: 27017}) {
		t.Errorf("defaults: got %+v", p)
	}

	p, err = parsePorts(env(map[string]string{envTemporalPort: "17233", envPostgresPort: "15432"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.temporal != 17233 || p.postgres != 15432 || p.temporalUI != 8233 {
		t.Errorf("overrides: got %+v", p)
	}

	for _, bad := range []string{"abc", "0", "70000", "-1"} {
		_, err := parsePorts(env(map[string]string{envMongoPort: bad}))
		if err == nil || !strings.Contains(err.Error(), envMongoPort) {
			t.Errorf("%s=%s: got %v, want an error naming the variable", envMongoPort, bad, err)
		}
	}

	_, err = parsePorts(env(map[string]string{envMongoPort: "5432"}))
	if err == nil || !strings.Contains(err.Error(), "5432") {
		t.Errorf("duplicate port: got %v", err)
	}
}
