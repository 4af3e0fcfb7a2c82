package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Names of the binaries under .tools/bin.
const (
	temporalBin = "temporal"
	ferretDBBin = "sagaflow-ferretdb"
	workerBin   = "sagaflow-worker"
)

// ferretDBModuleDir is the nested module, relative to the repository root,
// holding the main that runs FerretDB.
const ferretDBModuleDir = "stack/ferretdb"

// postgresBinGlob is where Debian puts each PostgreSQL version's server binaries.
const postgresBinGlob = "/usr/lib/postgresql/*/bin"

// goTool finds the go command used to build the tools.
func goTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build the local stack's tools: %w", err)
	}
	return p, nil
}

// temporalIsPinned reports whether the binary at path is the pinned Temporal
// CLI: `--version` names the version, or (for a build without the version
// stamped in) the module version recorded in the binary says so.
func temporalIsPinned(ctx context.Context, path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err == nil && versionLineMatches(string(out), temporalCLIVersion) {
		return true
	}
	info, err := buildinfo.ReadFile(path)
	return err == nil && info.Main.Path == temporalCLIModule && info.Main.Version == "v"+temporalCLIVersion
}

// versionLineMatches reports whether `temporal --version` output names version
// as the CLI version ("temporal version 1.5.1 (Server ...)").
func versionLineMatches(out, version string) bool {
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "version" && strings.TrimPrefix(f[i+1], "v") == version {
			return true
		}
	}
	return false
}

// ensureTemporal builds the pinned Temporal CLI into .tools/bin when it is
// missing or another version, and returns its path.
func ensureTemporal(ctx context.Context, s settings, out io.Writer) (string, error) {
	path := filepath.Join(s.toolsBin(), temporalBin)
	if temporalIsPinned(ctx, path) {
		return path, nil
	}
	goCmd, err := goTool()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(s.toolsBin(), 0o755); err != nil {
		return "", fmt.Errorf("build temporal: %w", err)
	}
	fmt.Fprintf(out, "building Temporal CLI v%s into %s (once; takes about %d minutes)...\n",
		temporalCLIVersion, s.toolsBin(), temporalBuildMinutes)
	start := time.Now()
	cmd := exec.CommandContext(ctx, goCmd, "install",
		"-ldflags=-X "+temporalVersionVar+"="+temporalCLIVersion,
		temporalCLIModule+"/cmd/temporal@v"+temporalCLIVersion)
	cmd.Dir = s.repoRoot
	cmd.Env = append(os.Environ(), "GOBIN="+s.toolsBin(), "GOWORK=off")
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build temporal CLI v%s: %w", temporalCLIVersion, err)
	}
	if !temporalIsPinned(ctx, path) {
		return "", fmt.Errorf("build temporal CLI v%s: %s does not report that version", temporalCLIVersion, path)
	}
	fmt.Fprintf(out, "built Temporal CLI in %s\n", time.Since(start).Round(time.Second))
	return path, nil
}

// goBinary is a binary the launcher builds from this repository's sources
// into .tools/bin, and builds again when a source file is newer than it.
type goBinary struct {
	name      string                 // file name under .tools/bin
	title     string                 // what the messages call it
	moduleDir string                 // the module's folder, relative to the repository root
	pkg       string                 // the package to build, relative to moduleDir
	isSource  func(name string) bool // which files are sources; nil: every file
	takes     string                 // how long a build takes, for the message
}

// ferretDBRunner is stack/ferretdb, a module of its own: all its files count.
var ferretDBRunner = goBinary{
	name: ferretDBBin, title: "FerretDB " + ferretDBVersion + " runner",
	moduleDir: ferretDBModuleDir, pkg: ".", takes: "about a minute",
}

// ensureFerretDB builds the FerretDB runner when needed and returns its path.
func ensureFerretDB(ctx context.Context, s settings, out io.Writer) (string, error) {
	return ensureGoBinary(ctx, s, out, ferretDBRunner)
}

// ensureGoBinary builds b into .tools/bin when the binary is missing or
// older than any of its module's source files, and returns its path.
func ensureGoBinary(ctx context.Context, s settings, out io.Writer, b goBinary) (string, error) {
	path := filepath.Join(s.toolsBin(), b.name)
	src := moduleSources{dir: filepath.Join(s.repoRoot, b.moduleDir), isSource: b.isSource, skip: []string{s.dataDir}}
	stale, err := binaryIsStale(path, src)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", b.name, err)
	}
	if !stale {
		return path, nil
	}
	goCmd, err := goTool()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(s.toolsBin(), 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", b.name, err)
	}
	fmt.Fprintf(out, "building the %s into %s (%s)...\n", b.title, path, b.takes)
	start := time.Now()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", path, b.pkg)
	cmd.Dir = src.dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s (in %s): %w", b.name, src.dir, err)
	}
	// go build leaves a binary it finds up to date untouched; date it from
	// the start of this build so that it is not found stale again, while a
	// source changed during the build still is.
	if err := os.Chtimes(path, start, start); err != nil {
		return "", fmt.Errorf("build %s: %w", b.name, err)
	}
	fmt.Fprintf(out, "built the %s in %s\n", b.title, time.Since(start).Round(time.Second))
	return path, nil
}

// moduleSources are the source files of the Go module in dir: the files
// isSource accepts (every file when nil), outside hidden folders (.git,
// .data, .tools), testdata, nested modules and the folders in skip.
type moduleSources struct {
	dir      string
	isSource func(name string) bool
	skip     []string
}

// binaryIsStale reports whether the binary at path is missing or older than
// one of the files of src.
func binaryIsStale(path string, src moduleSources) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	newest, err := src.newestModTime()
	if err != nil {
		return false, err
	}
	return fi.ModTime().Before(newest), nil
}

// newestModTime is the latest modification time of the source files.
func (m moduleSources) newestModTime() (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != m.dir && m.skipDir(p) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || (m.isSource != nil && !m.isSource(d.Name())) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	if newest.IsZero() {
		return time.Time{}, fmt.Errorf("no sources in %s", m.dir)
	}
	return newest, nil
}

// skipDir reports whether the folder p holds no sources of the module.
func (m moduleSources) skipDir(p string) bool {
	name := filepath.Base(p)
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || fileExists(filepath.Join(p, "go.mod")) {
		return true
	}
	for _, s := range m.skip {
		if filepath.Clean(p) == filepath.Clean(s) {
			return true
		}
	}
	return false
}

// isGoBuildInput accepts the files of a module that go build reads: .go
// files but tests, go.mod and go.sum, and the SQL migrations the services
// embed.
func isGoBuildInput(name string) bool {
	switch {
	case name == "go.mod" || name == "go.sum":
		return true
	case strings.HasSuffix(name, "_test.go"):
		return false
	case strings.HasSuffix(name, ".go"), strings.HasSuffix(name, ".sql"):
		return true
	}
	return false
}

// postgresBinDir returns the newest /usr/lib/postgresql/<version>/bin that
// has initdb, pg_ctl and postgres.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob(postgresBinGlob)
	var found []string
	for _, d := range dirs {
		ok := true
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				ok = false
			}
		}
		if ok {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", errors.New("PostgreSQL server binaries not found: apt-get install postgresql")
	}
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) > pgMajor(found[j]) })
	return found[0], nil
}

// pgMajor extracts the version number from /usr/lib/postgresql/<version>/bin.
func pgMajor(binDir string) int {
	n := 0
	for _, c := range filepath.Base(filepath.Dir(binDir)) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
