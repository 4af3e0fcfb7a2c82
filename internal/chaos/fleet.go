package chaos

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sagaflow/sagaflow/internal/faults"
)

// Fleet is the run's worker processes, each started from one binary with
// the fault layer on, and its log in a file of its own.
type Fleet struct {
	bin    string
	args   []string
	env    []string
	logDir string

	mu    sync.Mutex
	procs []*exec.Cmd // nil while a worker is down
	exits []chan struct{}
}

// NewFleet prepares n workers of bin with args and the fault spec.
func NewFleet(bin string, args []string, faultSpec, logDir string, n int) *Fleet {
	env := append(os.Environ(), "SAGAFLOW_FAULTS="+faultSpec)
	return &Fleet{bin: bin, args: args, env: env, logDir: logDir, procs: make([]*exec.Cmd, n), exits: make([]chan struct{}, n)}
}

// Start starts worker i (a no-op while it runs).
func (f *Fleet) Start(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.procs[i] != nil {
		return nil
	}
	log, err := os.OpenFile(f.logPath(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("worker %d log: %w", i, err)
	}
	cmd := exec.Command(f.bin, f.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = f.env, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start worker %d: %w", i, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a killed worker exits with an error: expected
		log.Close()
		close(exited)
	}()
	f.procs[i], f.exits[i] = cmd, exited
	return nil
}

// Signal sends sig to worker i and waits (bounded) until it exits.
func (f *Fleet) Signal(i int, sig syscall.Signal, wait time.Duration) error {
	f.mu.Lock()
	cmd, exited := f.procs[i], f.exits[i]
	f.procs[i] = nil
	f.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal worker %d: %w", i, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(wait):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return nil
	}
}

// StopAll stops every worker gracefully.
func (f *Fleet) StopAll() {
	for i := range f.procs {
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
	for i := range f.procs {
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
