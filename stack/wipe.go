package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// wipe deletes the data folder (but a .tools inside it) and a cluster kept
// outside it; it refuses while anything runs.
func (la launcher) wipe(ctx context.Context) error {
	s := la.s
	if err := checkWipeTarget(s.dataDir, s.repoRoot); err != nil {
		return err
	}
	fallback := pgFallbackBase(s.dataDir)
	_, dataErr := os.Stat(s.dataDir)
	_, fbErr := os.Stat(fallback)
	if errors.Is(dataErr, os.ErrNotExist) && errors.Is(fbErr, os.ErrNotExist) {
		fmt.Fprintf(la.out, "nothing to wipe: %s does not exist\n", s.dataDir)
		return nil
	}
	if dataErr == nil {
		unlock, err := lockDir(s.dataDir, la.out)
		if err != nil {
			return err
		}
		defer unlock()
	}
	running, err := la.anythingRunning(ctx)
	if err != nil {
		return err
	}
	if len(running) > 0 {
		return fmt.Errorf("stack is up (%s): run `make down` first", strings.Join(running, ", "))
	}
	if dataErr == nil {
		if err := wipeDataDir(s.dataDir); err != nil {
			return err
		}
		fmt.Fprintf(la.out, "wiped %s\n", s.dataDir)
	}
	if fbErr == nil {
		if err := os.RemoveAll(fallback); err != nil {
			return fmt.Errorf("wipe: %w", err)
		}
		fmt.Fprintf(la.out, "wiped %s\n", fallback)
	}
	return nil
}

// wipeDataDir deletes everything in dataDir but .tools, then dataDir itself
// when nothing is left.
func wipeDataDir(dataDir string) error {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	for _, e := range entries {
		if e.Name() == ".tools" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dataDir, e.Name())); err != nil {
			return fmt.Errorf("wipe: %w", err)
		}
	}
	if err := os.Remove(dataDir); err != nil && !errors.Is(err, os.ErrNotExist) && !isNotEmpty(err) {
		return fmt.Errorf("wipe: %w", err)
	}
	return nil
}

func isNotEmpty(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not empty")
}

// anythingRunning names the processes of ours that run: the worker and
// the servers.
func (la launcher) anythingRunning(ctx context.Context) ([]string, error) {
	var names []string
	if len(findProcesses(procRoot, workerIdentity(la.s))) > 0 {
		names = append(names, "Worker")
	}
	states, err := la.ourServers(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range states {
		if st.running {
			names = append(names, st.title)
		}
	}
	return names, nil
}

// checkWipeTarget refuses to delete a folder that is not a data folder: the
// repository, one of its parents, or anything holding a go.mod or .git.
func checkWipeTarget(dataDir, repoRoot string) error {
	clean := filepath.Clean(dataDir)
	if clean == "/" || clean == filepath.Clean(repoRoot) ||
		strings.HasPrefix(filepath.Clean(repoRoot)+string(filepath.Separator), clean+string(filepath.Separator)) {
		return fmt.Errorf("refusing to wipe %s: it is, or holds, the repository", dataDir)
	}
	for _, marker := range []string{"go.mod", ".git"} {
		if fileExists(filepath.Join(clean, marker)) {
			return fmt.Errorf("refusing to wipe %s: it holds %s, it does not look like a data folder", dataDir, marker)
		}
	}
	return nil
}
