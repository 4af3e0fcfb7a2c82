package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sagaflow/sagaflow/config"
)

// workerReadyMsg is the message the worker logs once its pollers started
// (worker/run.go).
const workerReadyMsg = "worker running"

// sagaWorker is ./worker, built from the main module.
var sagaWorker = goBinary{
	name: workerBin, title: "saga worker", moduleDir: ".", pkg: "./worker",
	isSource: isGoBuildInput, takes: "seconds once the module cache is warm",
}

// workerIdentity recognises our worker: our binary, started with our data
// folder in its environment (it takes no argument naming it).
func workerIdentity(s settings) processIdentity {
	return processIdentity{exe: filepath.Join(s.toolsBin(), workerBin), env: config.EnvDataDir + "=" + s.dataDir}
}

// workerArgs is the worker's command line: JSON logs, which the launcher
// reads to know when it is ready.
func workerArgs() []string { return []string{"--log-format", "json"} }

// workerEnv is the launcher's environment (so servers given by variable
// reach the worker) with the data folder set, absolute: the worker starts
// in / and finds the stack file through it.
func workerEnv(environ []string, dataDir string) []string {
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, config.EnvDataDir+"=") {
			env = append(env, kv)
		}
	}
	return append(env, config.EnvDataDir+"="+dataDir)
}

// workerReadyIn reports whether log, the worker's output, holds the JSON
// line saying its pollers started. Other lines (the launcher's header, a
// line still being written) are skipped.
func workerReadyIn(log []byte) bool {
	s := bufio.NewScanner(bytes.NewReader(log))
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		line := bytes.TrimSpace(s.Bytes())
		if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(workerReadyMsg)) {
			continue
		}
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == workerReadyMsg {
			return true
		}
	}
	return false
}

// readFrom returns the contents of path from offset on.
func readFrom(path string, offset int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// worker starts the saga worker against the running stack and waits until
// it polls; it changes nothing when ours already runs.
func (la launcher) worker(ctx context.Context) (err error) {
	s := la.s
	if _, err := os.Stat(s.dataDir); errors.Is(err, os.ErrNotExist) {
		return errors.New("stack not up: run `make up` first")
	}
	unlock, err := lockDir(s.dataDir, la.out)
	if err != nil {
		return err
	}
	defer unlock()

	missing, err := la.stackMissing(ctx)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("stack not up (%s): run `make up` first", strings.Join(missing, ", "))
	}
	logPath := s.logFile(nameWorker)
	if rec, running := la.findOurs(nameWorker, workerIdentity(s)); running {
		fmt.Fprintf(la.out, "%-11s already running (pid %d), log %s\n", "Worker", rec.pid, logPath)
		return nil
	}
	bin, err := ensureGoBinary(ctx, s, la.out, sagaWorker)
	if err != nil {
		return err
	}
	d, err := startDetached(bin, workerArgs(), workerEnv(os.Environ(), s.dataDir), logPath)
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer func() {
		if err != nil {
			_ = stopProcessGroup(procRoot, d.pid, stopGrace)
			_ = removeRunRecord(s.runDir(), nameWorker)
		}
	}()
	if err := writeRunRecord(s.runDir(), nameWorker, runRecord{pid: d.pid, info: map[string]string{"log": logPath}}); err != nil {
		return err
	}
	err = waitReady(ctx, "Worker", d, workerReadyTimeout, func(context.Context) error {
		out, err := readFrom(d.logPath, d.logStart)
		if err != nil {
			return err
		}
		if !workerReadyIn(out) {
			return fmt.Errorf("no %q line in its log yet", workerReadyMsg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(la.out, "%-11s up (pid %d), log %s\n", "Worker", d.pid, logPath)
	return nil
}
