package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runRecord is what a pid file in <datadir>/run holds: the pid on the first
// line (so `kill $(head -1 x.pid)` works), then key=value lines with what the
// launcher needs to find the server again (its address, its cluster...).
type runRecord struct {
	pid  int
	info map[string]string
}

func pidFilePath(runDir, name string) string { return filepath.Join(runDir, name+".pid") }

// writeRunRecord writes the pid file of name.
func writeRunRecord(runDir, name string, r runRecord) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.pid)
	keys := make([]string, 0, len(r.info))
	for k := range r.info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, r.info[k])
	}
	if err := os.WriteFile(pidFilePath(runDir, name), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// readRunRecord reads the pid file of name; os.ErrNotExist when there is none.
func readRunRecord(runDir, name string) (runRecord, error) {
	data, err := os.ReadFile(pidFilePath(runDir, name))
	if err != nil {
		return runRecord{}, err
	}
	return parseRunRecord(data)
}

func parseRunRecord(data []byte) (runRecord, error) {
	r := runRecord{info: map[string]string{}}
	s := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if first {
			first = false
			pid, err := strconv.Atoi(line)
			if err != nil || pid <= 0 {
				return runRecord{}, fmt.Errorf("pid file: first line %q is not a pid", line)
			}
			r.pid = pid
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			r.info[k] = v
		}
	}
	if first {
		return runRecord{}, errors.New("pid file: empty")
	}
	return r, nil
}

func removeRunRecord(runDir, name string) error {
	err := os.Remove(pidFilePath(runDir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove pid file: %w", err)
	}
	return nil
}

// processIdentity is how we recognise a process of ours in /proc: its
// executable (argv[0]) and an argument only our instance has (its data
// path), or, for a process that takes no such argument, a variable of its
// environment that only ours has (env, "KEY=value").
type processIdentity struct {
	exe    string
	marker string
	env    string
}

// matchCmdline reports whether a /proc/<pid>/cmdline (NUL-separated argv)
// belongs to id: argv[0] is id.exe and some argument contains id.marker.
func matchCmdline(cmdline []byte, id processIdentity) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || args[0] == "" {
		return false
	}
	if args[0] != id.exe && filepath.Clean(args[0]) != filepath.Clean(id.exe) {
		return false
	}
	if id.marker == "" {
		return true
	}
	for _, a := range args[1:] {
		if strings.Contains(a, id.marker) {
			return true
		}
	}
	return false
}

// isOurProcess reports whether pid is alive (not a zombie) and is the
// process described by id, so that a recycled pid is never signalled.
func isOurProcess(procRoot string, pid int, id processIdentity) bool {
	if pid <= 0 {
		return false
	}
	if st, ok := procState(procRoot, pid); !ok || st == 'Z' || st == 'X' {
		return false
	}
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || !matchCmdline(cmdline, id) {
		return false
	}
	if id.env == "" {
		return true
	}
	environ, err := os.ReadFile(filepath.Join(dir, "environ"))
	return err == nil && matchEnviron(environ, id.env)
}

// matchEnviron reports whether a /proc/<pid>/environ (NUL-separated
// KEY=value entries, as the process was started) holds the entry kv.
func matchEnviron(environ []byte, kv string) bool {
	for _, e := range strings.Split(string(environ), "\x00") {
		if e == kv {
			return true
		}
	}
	return false
}

// procStat holds the fields of /proc/<pid>/stat we use.
type procStat struct {
	state byte
	pgid  int
}

func readProcStat(procRoot string, pid int) (procStat, bool) {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, false
	}
	return parseProcStat(data)
}

// parseProcStat parses "pid (comm) state ppid pgrp ...": comm may hold
// spaces and parentheses, so fields are counted after the last ')'.
func parseProcStat(data []byte) (procStat, bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, false
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, false
	}
	return procStat{state: f[0][0], pgid: pgid}, true
}

func procState(procRoot string, pid int) (byte, bool) {
	st, ok := readProcStat(procRoot, pid)
	return st.state, ok
}

// isAnyOf reports whether pid is the live process described by one of ids
// (a server that an earlier version of the launcher started differently).
func isAnyOf(procRoot string, pid int, ids []processIdentity) bool {
	for _, id := range ids {
		if isOurProcess(procRoot, pid, id) {
			return true
		}
	}
	return false
}

// findProcesses lists the live processes matching one of ids, the launcher aside.
func findProcesses(procRoot string, ids ...processIdentity) []int {
	return listProcesses(procRoot, func(pid int) bool {
		return pid != os.Getpid() && isAnyOf(procRoot, pid, ids)
	})
}

// groupMembers lists the live (non-zombie) processes of process group pgid.
func groupMembers(procRoot string, pgid int) []int {
	return listProcesses(procRoot, func(pid int) bool {
		st, ok := readProcStat(procRoot, pid)
		return ok && st.pgid == pgid && st.state != 'Z' && st.state != 'X'
	})
}

// listProcesses lists the pids under procRoot for which keep holds.
func listProcesses(procRoot string, keep func(pid int) bool) []int {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && keep(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopProcessGroup sends SIGTERM to the process group that pid leads (or to
// pid alone when it leads none), waits up to grace for it to go, then sends
// SIGKILL and waits again. The caller has checked that pid is ours.
func stopProcessGroup(procRoot string, pid int, grace time.Duration) error {
	target := pid
	if st, ok := readProcStat(procRoot, pid); ok && st.pgid == pid {
		target = -pid // the whole session/group we created with Setsid
	}
	gone := func() bool {
		if target < 0 {
			return len(groupMembers(procRoot, pid)) == 0
		}
		st, ok := procState(procRoot, pid)
		return !ok || st == 'Z' || st == 'X'
	}
	signal := func(sig syscall.Signal) error {
		err := syscall.Kill(target, sig)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("send %v to %d: %w", sig, target, err)
		}
		return nil
	}
	if err := signal(syscall.SIGTERM); err != nil {
		return err
	}
	if waitUntil(gone, grace) {
		return nil
	}
	if err := signal(syscall.SIGKILL); err != nil {
		return err
	}
	if waitUntil(gone, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("process %d still running after SIGKILL", pid)
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// detached is a process started by this launcher run. exited receives the
// result of Wait when the process ends while the launcher still runs;
// logStart is the size of its log before this start, where its output begins.
type detached struct {
	pid      int
	logPath  string
	logStart int64
	exited   <-chan error
}

// startDetached starts bin in a session of its own (so a terminal's Ctrl-C
// or the end of `make` does not reach it), stdin from /dev/null, stdout and
// stderr appended to logPath, with the environment env (nil: the launcher's).
func startDetached(bin string, args, env []string, logPath string) (*detached, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logFile.Close()
	fi, err := logFile.Stat()
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	fmt.Fprintf(logFile, "\n=== %s sagaflow stack: starting %s %s\n",
		time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return &detached{pid: cmd.Process.Pid, logPath: logPath, logStart: fi.Size(), exited: exited}, nil
}

// tailFile returns the last n lines of path, indented, for error messages.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// lockDir takes an exclusive lock on dir for the life of the process (or
// until the returned func runs), so two launchers never race on one stack.
func lockDir(dir string, out io.Writer) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			fmt.Fprintf(out, "waiting for another launcher working on %s...\n", dir)
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
	}
	return func() { f.Close() }, nil
}
