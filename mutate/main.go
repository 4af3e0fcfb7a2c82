// Command mutate is `make mutate`: mutation testing of the packages whose
// tests need no server, with gremlins (github.com/go-gremlins/gremlins).
//
// Gremlins changes one operator at a time in a package's code (a < for a
// <=, a == for a !=, a + for a -, ...) and runs the package's tests: a
// change they notice is KILLED, one they let pass LIVED. The efficacy of a
// package's tests is killed / (killed + lived).
//
// mutate copies the source (the files git knows, committed or not, without
// .data/ and .tools/) to a temporary folder, runs gremlins there on each
// package in turn with SAGAFLOW_SERVER_FREE_TESTS set (the tests that need
// the local stack skip: internal/testenv), prints each package's counts
// and efficacy and the mutants that lived, and exits 1 when a package of
// -gate is below -threshold percent, or when gremlins fails.
//
//	go run ./mutate [flags] saga workflows
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// serverFreeEnv is internal/testenv.EnvServerFree, set for every test run.
const serverFreeEnv = "SAGAFLOW_SERVER_FREE_TESTS"

func main() {
	gremlins := flag.String("gremlins", ".tools/bin/gremlins", "the gremlins binary")
	gate := flag.String("gate", "saga workflows", "the packages (space- or comma-separated) whose efficacy must reach -threshold")
	threshold := flag.Float64("threshold", 90, "the lowest efficacy, in percent, of a package of -gate")
	workers := flag.Int("workers", 0, "gremlins' workers, the mutants tested at once (0: one per CPU)")
	coefficient := flag.Int("timeout-coefficient", 10, "gremlins' timeout coefficient: a mutant's tests time out after this many times the coverage run "+
		"(gremlins' 3 times out sound mutants on a loaded machine; a mutant that hangs costs this much)")
	keep := flag.Bool("keep", false, "keep the copy of the source and gremlins' reports")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./mutate [flags] package-dir...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := config{
		gremlins: *gremlins, gate: fields(*gate), threshold: *threshold,
		workers: *workers, coefficient: *coefficient, keep: *keep, pkgs: flag.Args(),
	}
	// Interrupted, gremlins stops and restores its copies; the source's copy
	// is removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

type config struct {
	gremlins             string
	gate                 []string
	threshold            float64
	workers, coefficient int
	keep                 bool
	pkgs                 []string
}

func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	start := time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(cfg.gremlins)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("gremlins: %w (make mutate builds it)", err)
	}
	work, err := os.MkdirTemp("", "sagaflow-mutate-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(out, "copy of the source and reports: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	src := filepath.Join(work, "src")
	if err := copySource(root, src); err != nil {
		return err
	}
	var results []result
	for _, pkg := range cfg.pkgs {
		pkg = strings.Trim(filepath.ToSlash(filepath.Clean(pkg)), "./")
		fmt.Fprintf(out, "\n== gremlins on ./%s\n", pkg)
		report := filepath.Join(work, strings.ReplaceAll(pkg, "/", "_")+".json")
		began := time.Now()
		if err := unleash(ctx, cfg, bin, src, pkg, report, out); err != nil {
			return fmt.Errorf("gremlins on ./%s: %w", pkg, err)
		}
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		r, err := readReport(report)
		if err != nil {
			return fmt.Errorf("gremlins on ./%s: %w", pkg, err)
		}
		r.pkg, r.took = pkg, time.Since(began)
		results = append(results, r)
	}
	fmt.Fprintln(out)
	printTable(out, results)
	fmt.Fprintf(out, "\nmutation testing took %s\n", time.Since(start).Round(time.Second))
	return check(results, cfg.gate, cfg.threshold)
}

// repoRoot is the folder of the module's go.mod, from the working folder up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not in a Go module")
		}
		dir = parent
	}
}

// copySource copies the files git knows in root (tracked or not ignored,
// so uncommitted tests count) to dst. Gremlins copies the whole module for
// each of its workers: the copy keeps .data/ (the stack's databases) and
// .tools/ out of it.
func copySource(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	list, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, rel := range strings.Split(string(list), "\x00") {
		if rel == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted, not yet committed
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// unleash runs gremlins on the package in dir src/pkg, writing its report.
// Only the package's own files are mutated (-E /: not those of the
// packages below it), and its output lists only the mutants that lived or
// timed out. Gremlins runs in the package's own module (the saga engine,
// saga/, is a module of its own).
func unleash(ctx context.Context, cfg config, bin, src, pkg, report string, out io.Writer) error {
	modDir, rel, err := moduleOf(src, pkg)
	if err != nil {
		return err
	}
	args := []string{"unleash", "--output", report, "--output-statuses", "lt", "--exclude-files", "/"}
	if cfg.workers > 0 {
		args = append(args, "--workers", fmt.Sprint(cfg.workers))
	}
	if cfg.coefficient > 0 {
		args = append(args, "--timeout-coefficient", fmt.Sprint(cfg.coefficient))
	}
	if rel != "." {
		rel = "./" + rel
	}
	args = append(args, rel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.Dir = modDir
	// -count=1: a cached coverage run would make gremlins' timeouts, a
	// multiple of its duration, too short for any mutant. -vet=off: a
	// mutant is killed by the tests, not by go vet, and a second sooner;
	// -ldflags=-w: test binaries without DWARF link faster.
	goflags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -count=1 -vet=off -ldflags=-w")
	cmd.Env = append(os.Environ(), serverFreeEnv+"=1", "GOFLAGS="+goflags)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}

// moduleOf returns the folder of the module that holds the package in
// src/pkg (the nearest go.mod at or above it, not above src) and the
// package's path relative to it ("." for the module's root package).
func moduleOf(src, pkg string) (dir, rel string, err error) {
	dir = filepath.Join(src, filepath.FromSlash(pkg))
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, filepath.Join(src, filepath.FromSlash(pkg)))
			return dir, filepath.ToSlash(rel), err
		}
		if dir == src || filepath.Dir(dir) == dir {
			return "", "", fmt.Errorf("no go.mod holds %s", pkg)
		}
		dir = filepath.Dir(dir)
	}
}

// result is what gremlins found in one package.
type result struct {
	pkg                                            string
	killed, lived, timedOut, notViable, notCovered int
	livedAt                                        []string
	took                                           time.Duration
}

// efficacy is gremlins' test efficacy: killed / (killed + lived), in percent.
func (r result) efficacy() float64 {
	if r.killed+r.lived == 0 {
		return 0
	}
	return 100 * float64(r.killed) / float64(r.killed+r.lived)
}

// report is the part of gremlins' JSON report (--output) mutate reads.
type report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

func readReport(path string) (result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return result{}, fmt.Errorf("no report: %w", err)
	}
	return parseReport(data)
}

func parseReport(data []byte) (result, error) {
	var rep report
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&rep); err != nil {
		return result{}, fmt.Errorf("report: %w", err)
	}
	var r result
	for _, f := range rep.Files {
		for _, m := range f.Mutations {
			switch m.Status {
			case "KILLED":
				r.killed++
			case "LIVED":
				r.lived++
				r.livedAt = append(r.livedAt, fmt.Sprintf("%s:%d:%d %s", f.Name, m.Line, m.Column, m.Type))
			case "TIMED OUT":
				r.timedOut++
			case "NOT VIABLE":
				r.notViable++
			case "NOT COVERED":
				r.notCovered++
			}
		}
	}
	slices.Sort(r.livedAt)
	return r, nil
}

func printTable(out io.Writer, results []result) {
	fmt.Fprintf(out, "%-12s %7s %6s %10s %11s %12s %9s %8s\n", "package", "killed", "lived", "timed out", "not viable", "not covered", "efficacy", "time")
	for _, r := range results {
		fmt.Fprintf(out, "%-12s %7d %6d %10d %11d %12d %8.2f%% %8s\n", r.pkg, r.killed, r.lived, r.timedOut, r.notViable, r.notCovered,
			r.efficacy(), r.took.Round(time.Second))
	}
	for _, r := range results {
		for _, at := range r.livedAt {
			fmt.Fprintf(out, "LIVED %s/%s\n", r.pkg, at)
		}
	}
}

// check fails when a gated package's efficacy is below threshold, or when
// it had no mutant tested.
func check(results []result, gate []string, threshold float64) error {
	var low []string
	for _, r := range results {
		if !slices.Contains(gate, r.pkg) {
			continue
		}
		if r.killed+r.lived == 0 {
			low = append(low, fmt.Sprintf("%s: no mutant was tested", r.pkg))
		} else if r.efficacy() < threshold {
			low = append(low, fmt.Sprintf("%s: %.2f%%", r.pkg, r.efficacy()))
		}
	}
	if len(low) > 0 {
		return fmt.Errorf("efficacy below %.0f%%: %s", threshold, strings.Join(low, "; "))
	}
	return nil
}
