package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A report as gremlins writes it (--output), trimmed.
const sample = `{"go_module":"github.com/sagaflow/sagaflow","files":[
 {"file_name":"persist.go","mutations":[
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":80,"column":27},
  {"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":84,"column":15},
  {"type":"ARITHMETIC_BASE","status":"TIMED OUT","line":9,"column":1}]},
 {"file_name":"saga.go","mutations":[
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":102,"column":26},
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":105,"column":18},
  {"type":"ARITHMETIC_BASE","status":"NOT VIABLE","line":35,"column":33},
  {"type":"CONDITIONALS_NEGATION","status":"NOT COVERED","line":68,"column":11}]}],
 "test_efficacy":75,"mutants_total":5}`

func TestReportCountsAndEfficacy(t *testing.T) {
	r, err := parseReport([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if r.killed != 3 || r.lived != 1 || r.timedOut != 1 || r.notViable != 1 || r.notCovered != 1 {
		t.Fatalf("counts %+v", r)
	}
	if r.efficacy() != 75 {
		t.Fatalf("efficacy %.2f, want 75 (3 killed of 4 tested)", r.efficacy())
	}
	if want := []string{"persist.go:84:15 CONDITIONALS_BOUNDARY"}; !slices.Equal(r.livedAt, want) {
		t.Fatalf("lived %v, want %v", r.livedAt, want)
	}
	if _, err := parseReport([]byte("not json")); err == nil {
		t.Fatal("a broken report was read")
	}
}

func TestCheckGatesOnlyTheGatedPackages(t *testing.T) {
	results := []result{
		{pkg: "saga", killed: 9, lived: 1},             // 90%
		{pkg: "workflows", killed: 89, lived: 11},      // 89%
		{pkg: "internal/faults", killed: 1, lived: 9},  // 10%, not gated
		{pkg: "config", notCovered: 4, notViable: 1},   // nothing tested
		{pkg: "internal/logging", killed: 0, lived: 0}, // nothing tested, not gated
	}
	if err := check(results[:1], []string{"saga"}, 90); err != nil {
		t.Errorf("90%% against a threshold of 90: %v", err)
	}
	err := check(results, []string{"saga", "workflows", "config"}, 90)
	if err == nil || !strings.Contains(err.Error(), "workflows: 89.00%") || !strings.Contains(err.Error(), "config: no mutant was tested") ||
		strings.Contains(err.Error(), "saga") || strings.Contains(err.Error(), "faults") {
		t.Errorf("check: %v", err)
	}
}

func TestModuleOfFindsTheNearestGoMod(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"go.mod", "saga/go.mod", "saga/barrier/x.go", "workflows/x.go"} {
		path := filepath.Join(src, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pkg, want := range map[string][2]string{
		"workflows":    {src, "workflows"},
		"saga":         {filepath.Join(src, "saga"), "."},
		"saga/barrier": {filepath.Join(src, "saga"), "barrier"},
	} {
		dir, rel, err := moduleOf(src, pkg)
		if err != nil || dir != want[0] || rel != want[1] {
			t.Errorf("moduleOf(%s) = %s, %s, %v; want %s, %s", pkg, dir, rel, err, want[0], want[1])
		}
	}
	if _, _, err := moduleOf(t.TempDir(), "x"); err == nil {
		t.Error("moduleOf without a go.mod: no error")
	}
}
