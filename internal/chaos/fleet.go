package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sagaflow/sagaflow/internal/faults"
)

// Fleet is the run's worker processes, each started from one binary with
// the fault layer on, and its log in a file of its own. Like a process
// supervisor, it restarts a worker that exits without being told to.
type Fleet struct {
	bin    string
	args   []string
	env    []string
	logDir string
	// memberEnv[i] is added to worker i's environment (SetEnv).
	memberEnv [][]string

	mu      sync.Mutex
	members []*member // nil while a worker is down
	closing bool
	// Unexpected counts workers that exited on their own (and were restarted).
	unexpected int
}

// member is one running worker process.
type member struct {
	cmd    *exec.Cmd
	exited chan struct{}
	// told is set before the fleet signals the process, so its exit is expected.
	told atomic.Bool
}

// restartPause is how long the fleet waits before restarting a worker that
// exited on its own.
const restartPause = time.Second

// NewFleet prepares n workers of bin with args and the fault spec. The
// workers never encrypt payloads, whatever SAGAFLOW_ENCRYPT says: the
// runner's client and its replayer read them without keys.
func NewFleet(bin string, args []string, faultSpec, logDir string, n int) *Fleet {
	env := append(os.Environ(), "SAGAFLOW_FAULTS="+faultSpec, "SAGAFLOW_ENCRYPT=false")
	return &Fleet{bin: bin, args: args, env: env, logDir: logDir, members: make([]*member, n), memberEnv: make([][]string, n)}
}

// SetEnv gives worker i the variables env (KEY=value) on top of the
// fleet's, from its next start on: its own server addresses, say
// (Partitions.Env).
func (f *Fleet) SetEnv(i int, env []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.memberEnv[i] = env
}

// Start starts worker i (a no-op while it runs).
func (f *Fleet) Start(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.members[i] != nil || f.closing {
		return nil
	}
	log, err := os.OpenFile(f.logPath(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("worker %d log: %w", i, err)
	}
	cmd := exec.Command(f.bin, f.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(f.env[:len(f.env):len(f.env)], f.memberEnv[i]...), log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start worker %d: %w", i, err)
	}
	m := &member{cmd: cmd, exited: make(chan struct{})}
	f.members[i] = m
	go func() {
		_ = cmd.Wait() // a killed worker exits with an error: expected
		log.Close()
		close(m.exited)
		if !m.told.Load() {
			f.restartUnexpected(i, m)
		}
	}()
	return nil
}

// restartUnexpected restarts worker i after it exited on its own.
func (f *Fleet) restartUnexpected(i int, m *member) {
	f.mu.Lock()
	if f.members[i] != m || f.closing {
		f.mu.Unlock()
		return
	}
	f.members[i] = nil
	f.unexpected++
	f.mu.Unlock()
	time.Sleep(restartPause)
	_ = f.Start(i) // a failed restart shows as a worker that stays down; the run goes on
}

// Unexpected returns how many times a worker exited on its own.
func (f *Fleet) Unexpected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unexpected
}

// Signal sends sig to worker i and waits (bounded, then SIGKILL) until it
// exits. A worker that is down already is left as it is.
func (f *Fleet) Signal(i int, sig syscall.Signal, wait time.Duration) error {
	f.mu.Lock()
	m := f.members[i]
	f.members[i] = nil
	f.mu.Unlock()
	if m == nil {
		return nil
	}
	m.told.Store(true)
	if err := syscall.Kill(-m.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal worker %d: %w", i, err)
	}
	select {
	case <-m.exited:
	case <-time.After(wait):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.exited
	}
	return nil
}

// WorkerOf returns the running worker whose process has pid.
func (f *Fleet) WorkerOf(pid int) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.members {
		if m != nil && m.cmd.Process.Pid == pid {
			return i, true
		}
	}
	return -1, false
}

// Pause stops worker i with SIGSTOP: it keeps its connections, and its
// database sessions any transaction they have open, but does nothing, as
// if cut off by a partition. Continue (SIGCONT) resumes it.
func (f *Fleet) Pause(i int) error { return f.signalRunning(i, syscall.SIGSTOP) }

// Continue resumes worker i after Pause.
func (f *Fleet) Continue(i int) error { return f.signalRunning(i, syscall.SIGCONT) }

// signalRunning sends sig to running worker i's process group (one that
// has just exited is restarted by the fleet).
func (f *Fleet) signalRunning(i int, sig syscall.Signal) error {
	f.mu.Lock()
	m := f.members[i]
	f.mu.Unlock()
	if m == nil {
		return fmt.Errorf("signal worker %d: %v: the worker is down", i, sig)
	}
	if err := syscall.Kill(-m.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal worker %d: %v: %w", i, sig, err)
	}
	return nil
}

// StopAll stops every worker gracefully and keeps them down.
func (f *Fleet) StopAll() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	for i := range f.members {
		_ = f.Signal(i, syscall.SIGTERM, 15*time.Second)
	}
}

func (f *Fleet) logPath(i int) string {
	return filepath.Join(f.logDir, fmt.Sprintf("worker-%d.log", i))
}

// InjectedFaults counts, over every worker log, the faults the fault layer
// injected, by kind.
func (f *Fleet) InjectedFaults() (map[string]int, error) {
	counts := map[string]int{}
	for i := range f.members {
		file, err := os.Open(f.logPath(i))
		if err != nil {
			return nil, fmt.Errorf("read worker %d log: %w", i, err)
		}
		s := bufio.NewScanner(file)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			line := s.Text()
			if !strings.Contains(line, `"msg":"`+faults.LogMessage+`"`) {
				continue
			}
			for _, kind := range []string{faults.KindAmbiguous, faults.KindBefore} {
				if strings.Contains(line, `"kind":"`+kind+`"`) {
					counts[kind]++
				}
			}
		}
		file.Close()
		if err := s.Err(); err != nil {
			return nil, fmt.Errorf("read worker %d log: %w", i, err)
		}
	}
	return counts, nil
}
