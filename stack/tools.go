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

// ensureFerretDB builds stack/ferretdb into .tools/bin when the binary is
// missing or older than any of the module's files, and returns its path.
func ensureFerretDB(ctx context.Context, s settings, out io.Writer) (string, error) {
	path := filepath.Join(s.toolsBin(), ferretDBBin)
	src := filepath.Join(s.repoRoot, ferretDBModuleDir)
	newest, err := newestModTime(src)
	if err != nil {
		return "", fmt.Errorf("build ferretdb: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && !fi.ModTime().Before(newest) {
		return path, nil
	}
	goCmd, err := goTool()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "building FerretDB %s runner into %s (about a minute)...\n", ferretDBVersion, path)
	start := time.Now()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", path, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ferretdb (in %s): %w", src, err)
	}
	fmt.Fprintf(out, "built FerretDB runner in %s\n", time.Since(start).Round(time.Second))
	return path, nil
}

// newestModTime is the latest modification time of the files under dir.
func newestModTime(dir string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
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
		return time.Time{}, fmt.Errorf("no sources in %s", dir)
	}
	return newest, nil
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
