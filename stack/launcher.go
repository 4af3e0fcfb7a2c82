package main

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"
)

// Names of the pieces of the stack (pid and log files are named after them).
const (
	nameTemporal = "temporal"
	nameFerretDB = "ferretdb"
	namePostgres = "postgres"
	nameWorker   = "worker"
)

// Bounds on waiting for a server.
const (
	temporalReadyTimeout = 120 * time.Second
	ferretDBReadyTimeout = 60 * time.Second
	postgresReadyTimeout = 30 * time.Second
	workerReadyTimeout   = 60 * time.Second
	// stopGrace is how long a process has to stop after SIGTERM; the
	// worker takes up to 10s to let its running activities finish.
	stopGrace    = 20 * time.Second
	probeTimeout = 5 * time.Second
)

// procRoot is where process information is read from.
const procRoot = "/proc"

// errNotFullyUp makes `status` exit non-zero.
var errNotFullyUp = errors.New("stack not fully up")

// launcher runs one subcommand.
type launcher struct {
	s   settings
	out io.Writer
}

// findOurs returns the running server of name: the one its pid file names
// when that pid is still ours, else any process matching one of ids (a
// server whose pid file was lost, known by its pid alone).
func (la launcher) findOurs(name string, ids ...processIdentity) (runRecord, bool) {
	if rec, err := readRunRecord(la.s.runDir(), name); err == nil && isAnyOf(procRoot, rec.pid, ids) {
		return rec, true
	}
	if pids := findProcesses(procRoot, ids...); len(pids) > 0 {
		return runRecord{pid: pids[0], info: map[string]string{}}, true
	}
	return runRecord{}, false
}

// serverState says whether a server of ours runs, and whether an existing
// server replaces it.
type serverState struct {
	title    string
	running  bool
	external bool
}

// ourServers reports Temporal, PostgreSQL and FerretDB.
func (la launcher) ourServers(ctx context.Context) ([]serverState, error) {
	s := la.s
	states := []serverState{
		{title: "Temporal", running: len(findProcesses(procRoot, temporalIdentity(s))) > 0, external: s.extTemporalAddress != ""},
		{title: "PostgreSQL", external: s.externalPostgres()},
		{title: "FerretDB", running: len(findProcesses(procRoot, ferretDBIdentities(s)...)) > 0, external: s.extMongoURI != ""},
	}
	pg, _, ok, err := la.pgLayoutFor(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		_, states[1].running = pg.postmaster()
	}
	return states, nil
}

// stackMissing names what is missing for the stack to be up: a server of
// ours that does not run (and no existing server replaces), the stack file.
func (la launcher) stackMissing(ctx context.Context) ([]string, error) {
	states, err := la.ourServers(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, st := range states {
		if !st.running && !st.external {
			missing = append(missing, st.title+" down")
		}
	}
	if !fileExists(la.s.stackFile()) {
		missing = append(missing, "no stack file")
	}
	return missing, nil
}

// infoPort returns the port recorded under key, or def.
func infoPort(info map[string]string, key string, def int) int {
	if n, err := strconv.Atoi(info[key]); err == nil && n > 0 {
		return n
	}
	return def
}

// pgLayoutFor finds the cluster of this data folder: where its pid file
// says, else where up would put it. ok is false when PostgreSQL is not
// installed and no pid file says where ours is. port is the running
// server's port, or the configured one.
func (la launcher) pgLayoutFor(ctx context.Context) (l pgLayout, port int, ok bool, err error) {
	port = la.s.ports.postgres
	rec, _ := readRunRecord(la.s.runDir(), namePostgres)
	binDir := rec.info["bin"]
	if binDir == "" {
		if binDir, err = postgresBinDir(); err != nil {
			return pgLayout{}, port, false, nil
		}
	}
	if l, err = resolvePGLayout(ctx, la.s, binDir, port); err != nil {
		return pgLayout{}, port, false, err
	}
	if c := rec.info["cluster"]; c != "" {
		l.clusterDir = c
	}
	if pm, running := l.postmaster(); running {
		port, l.socketDir = pm.port, pm.socketDir
	}
	return l, port, true, nil
}
