package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/config"
)

// Names of the pieces of the stack (pid and log files are named after them).
const (
	nameTemporal = "temporal"
	nameFerretDB = "ferretdb"
	namePostgres = "postgres"
)

// Bounds on waiting for a server.
const (
	temporalReadyTimeout = 120 * time.Second
	ferretDBReadyTimeout = 60 * time.Second
	postgresReadyTimeout = 30 * time.Second
	stopGrace            = 20 * time.Second
	probeTimeout         = 5 * time.Second
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

// stackAddrs are the addresses the stack file publishes.
type stackAddrs struct {
	temporal, namespace, temporalUI string
	inventory, payments             string
	mongo                           string
}

// stackFileOrder is the order of the keys in the stack file.
func stackFileOrder() []string {
	return []string{config.EnvTemporalAddress, config.EnvTemporalNamespace, config.EnvTemporalUIURL,
		config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI}
}

func (a stackAddrs) values() map[string]string {
	v := map[string]string{
		config.EnvTemporalAddress:   a.temporal,
		config.EnvTemporalNamespace: a.namespace,
		config.EnvInventoryURL:      a.inventory,
		config.EnvPaymentsURL:       a.payments,
		config.EnvMongoURI:          a.mongo,
	}
	if a.temporalUI != "" {
		v[config.EnvTemporalUIURL] = a.temporalUI
	}
	return v
}

// redact hides the password of a URL for printing.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// printAddrs prints the addresses of a, one per line.
func (la launcher) printAddrs(a stackAddrs) {
	w := la.out
	fmt.Fprintf(w, "  Temporal            %s (namespace %s)\n", a.temporal, a.namespace)
	if a.temporalUI != "" {
		fmt.Fprintf(w, "  Temporal Web UI     %s\n", a.temporalUI)
	}
	fmt.Fprintf(w, "  PostgreSQL          %s\n", redact(a.inventory))
	fmt.Fprintf(w, "                      %s\n", redact(a.payments))
	fmt.Fprintf(w, "  MongoDB (FerretDB)  %s\n", redact(a.mongo))
	fmt.Fprintf(w, "  full URLs (with passwords) in %s\n", la.s.stackFile())
}

// ourServer is a server of ours found running.
type ourServer struct {
	pid  int
	info map[string]string
}

// findOurs returns the running server of name: the one its pid file names
// when that pid is still ours, else any process matching id (a server whose
// pid file was lost).
func (la launcher) findOurs(name string, id processIdentity) (ourServer, bool) {
	if rec, err := readRunRecord(la.s.runDir(), name); err == nil && isOurProcess(procRoot, rec.pid, id) {
		return ourServer{pid: rec.pid, info: rec.info}, true
	}
	if pids := findProcesses(procRoot, id); len(pids) > 0 {
		return ourServer{pid: pids[0], info: map[string]string{}}, true
	}
	return ourServer{}, false
}

// findProcesses lists the live processes matching id.
func findProcesses(procRoot string, id processIdentity) []int {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isOurProcess(procRoot, pid, id) {
			pids = append(pids, pid)
		}
	}
	return pids
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

// pgURLs returns the service URLs of our cluster.
func pgURLs(port int, passwords map[string]string) map[string]string {
	urls := map[string]string{}
	for _, svc := range pgServices() {
		urls[svc] = pgServiceURL(port, svc, passwords[svc])
	}
	return urls
}

// waitReady polls check until it passes, the process d exits, ctx ends, or
// timeout passes; the error names the log file to read.
func waitReady(ctx context.Context, title string, d *detached, timeout time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if d != nil {
			select {
			case werr := <-d.exited:
				return fmt.Errorf("%s exited while starting (%v); see %s:\n%s", title, werr, d.logPath, tailFile(d.logPath, 15))
			default:
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", title, ctx.Err())
		}
		if time.Now().After(deadline) {
			logHint := ""
			if d != nil {
				logHint = fmt.Sprintf("; see %s:\n%s", d.logPath, tailFile(d.logPath, 15))
			}
			return fmt.Errorf("%s not ready after %s: %v%s", title, timeout, err, logHint)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// up starts what is not running yet, waits until every server answers and
// writes the stack file.
func (la launcher) up(ctx context.Context) (err error) {
	s := la.s
	began := time.Now()
	if err := s.ensureDirs(); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	unlock, err := lockDir(s.dataDir, la.out)
	if err != nil {
		return err
	}
	defer unlock()

	// What is there already.
	temporal, temporalUp := la.findOurs(nameTemporal, temporalIdentity(s))
	ferret, ferretUp := la.findOurs(nameFerretDB, ferretDBIdentity(s))
	var (
		pg     pgLayout
		pgPort = s.ports.postgres
		pgPID  int
		pgUp   bool
	)
	if !s.externalPostgres() {
		binDir, err := postgresBinDir()
		if err != nil {
			return err
		}
		if pg, err = resolvePGLayout(ctx, s, binDir, pgPort); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if pm, running := pg.postmaster(); running {
			pgPID, pgUp, pgPort, pg.socketDir = pm.pid, true, pm.port, pm.socketDir
		}
	}
	la.printExternal()
	if s.extTemporalAddress != "" && temporalUp {
		fmt.Fprintf(la.out, "Temporal    note: the local one started earlier still runs (pid %d); `make down` stops it\n", temporal.pid)
	}
	if s.extMongoURI != "" && ferretUp {
		fmt.Fprintf(la.out, "FerretDB    note: the local one started earlier still runs (pid %d); `make down` stops it\n", ferret.pid)
	}
	startTemporalNow := s.extTemporalAddress == "" && !temporalUp
	startFerretNow := s.extMongoURI == "" && !ferretUp
	startPGNow := !s.externalPostgres() && !pgUp

	if !startTemporalNow && !startFerretNow && !startPGNow && fileExists(s.stackFile()) {
		fmt.Fprintln(la.out, "stack already up:")
		if a, err := la.currentAddrs(pg, pgPort, temporal, ferret); err == nil {
			la.printAddrs(a)
		}
		return nil
	}

	// Ports first, before building or starting anything.
	var specs []portSpec
	if startTemporalNow {
		specs = append(specs, s.ports.temporalSpec(), s.ports.temporalUISpec())
	}
	if startPGNow {
		specs = append(specs, s.ports.postgresSpec())
	}
	if startFerretNow {
		specs = append(specs, s.ports.mongoSpec())
	}
	if err := checkPortsFree(specs); err != nil {
		return err
	}

	// Tools.
	var ferretBin, temporalBinPath string
	if startFerretNow {
		if ferretBin, err = ensureFerretDB(ctx, s, la.out); err != nil {
			return err
		}
	}
	if startTemporalNow {
		if temporalBinPath, err = ensureTemporal(ctx, s, la.out); err != nil {
			return err
		}
	}

	// From here on, stop what this run started if anything fails.
	var undo []func()
	defer func() {
		if err != nil && len(undo) > 0 {
			fmt.Fprintln(la.out, "start-up failed; stopping what this run started (logs stay in "+s.logsDir()+")")
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	stopDetached := func(name string, pid int) func() {
		return func() {
			_ = stopProcessGroup(procRoot, pid, stopGrace)
			_ = removeRunRecord(s.runDir(), name)
		}
	}

	// Temporal and FerretDB start in the background while PostgreSQL starts.
	var temporalProc, ferretProc *detached
	tPort, tUIPort := s.ports.temporal, s.ports.temporalUI
	if temporalUp {
		tPort = infoPort(temporal.info, "port", tPort)
		tUIPort = infoPort(temporal.info, "ui_port", tUIPort)
	}
	if startTemporalNow {
		if err := os.MkdirAll(filepath.Dir(temporalDBPath(s)), 0o755); err != nil {
			return fmt.Errorf("start temporal: %w", err)
		}
		if temporalProc, err = startTemporal(s, temporalBinPath, tPort, tUIPort); err != nil {
			return err
		}
		undo = append(undo, stopDetached(nameTemporal, temporalProc.pid))
		if err := writeRunRecord(s.runDir(), nameTemporal, runRecord{pid: temporalProc.pid, info: map[string]string{
			"port": strconv.Itoa(tPort), "ui_port": strconv.Itoa(tUIPort)}}); err != nil {
			return err
		}
		fmt.Fprintf(la.out, "Temporal    starting (pid %d), log %s\n", temporalProc.pid, temporalProc.logPath)
	}
	fPort := s.ports.mongo
	if ferretUp {
		fPort = infoPort(ferret.info, "port", fPort)
	}
	if startFerretNow {
		if ferretProc, err = startFerretDB(s, ferretBin, fPort); err != nil {
			return err
		}
		undo = append(undo, stopDetached(nameFerretDB, ferretProc.pid))
		if err := writeRunRecord(s.runDir(), nameFerretDB, runRecord{pid: ferretProc.pid, info: map[string]string{
			"port": strconv.Itoa(fPort)}}); err != nil {
			return err
		}
		fmt.Fprintf(la.out, "FerretDB    starting (pid %d), log %s\n", ferretProc.pid, ferretProc.logPath)
	}

	var pgURLMap map[string]string
	if !s.externalPostgres() {
		if startPGNow {
			if pgPID, err = la.startPostgres(ctx, pg, pgPort); err != nil {
				return err
			}
			pid := pgPID
			undo = append(undo, func() {
				_ = pg.stop(context.Background(), pid)
				_ = removeRunRecord(s.runDir(), namePostgres)
			})
		}
		passwords, err := pg.loadOrCreatePasswords()
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if startPGNow {
			if err := pg.setup(ctx, pgPort, passwords); err != nil {
				return fmt.Errorf("postgres setup: %w", err)
			}
		}
		pgURLMap = pgURLs(pgPort, passwords)
		err = waitReady(ctx, "PostgreSQL", nil, postgresReadyTimeout, func(ctx context.Context) error {
			return checkPostgres(ctx, pgURLMap)
		})
		if err != nil {
			return fmt.Errorf("%w; see %s", err, pg.logLink)
		}
		if startPGNow {
			fmt.Fprintf(la.out, "PostgreSQL  up (pid %d), cluster %s\n", pgPID, pg.clusterDir)
		}
	}

	if s.extMongoURI == "" {
		uri := mongoURI(fPort)
		if err := waitReady(ctx, "FerretDB", ferretProc, ferretDBReadyTimeout, func(ctx context.Context) error {
			return checkMongo(ctx, uri, true)
		}); err != nil {
			return err
		}
		if startFerretNow {
			fmt.Fprintf(la.out, "FerretDB    up (pid %d)\n", ferretProc.pid)
		}
	}
	if s.extTemporalAddress == "" {
		addr, ui := temporalAddress(tPort), temporalUIURL(tUIPort)
		if err := waitReady(ctx, "Temporal", temporalProc, temporalReadyTimeout, func(ctx context.Context) error {
			return checkTemporal(ctx, addr, s.namespace, ui)
		}); err != nil {
			return err
		}
		if startTemporalNow {
			fmt.Fprintf(la.out, "Temporal    up (pid %d)\n", temporalProc.pid)
		}
	}

	a := la.addrs(tPort, tUIPort, fPort, pgURLMap)
	if err := config.WriteStackFile(s.stackFile(), a.values(), stackFileOrder()); err != nil {
		return err
	}
	fmt.Fprintf(la.out, "stack up in %s:\n", time.Since(began).Round(100*time.Millisecond))
	la.printAddrs(a)
	return nil
}

// startPostgres initialises the cluster on first use, starts it and
// records its pid.
func (la launcher) startPostgres(ctx context.Context, pg pgLayout, port int) (int, error) {
	s := la.s
	if pg.fallback {
		fmt.Fprintf(la.out, "PostgreSQL  the %s user cannot reach %s; the cluster lives in %s (kept across down/up, removed by wipe)\n",
			pgSystemUser, s.dataDir, pg.clusterDir)
	}
	if err := pg.prepare(); err != nil {
		return 0, fmt.Errorf("start postgres: %w", err)
	}
	if !pg.initialized() {
		if cleared, err := pg.clearIncomplete(); err != nil {
			return 0, fmt.Errorf("start postgres: clear an incomplete cluster: %w", err)
		} else if cleared {
			fmt.Fprintf(la.out, "PostgreSQL  %s holds an interrupted initialisation; starting it over\n", pg.clusterDir)
		}
		fmt.Fprintf(la.out, "PostgreSQL  initialising a cluster in %s\n", pg.clusterDir)
		if err := pg.initCluster(ctx); err != nil {
			return 0, fmt.Errorf("start postgres: %w", err)
		}
	}
	if err := pg.writeConf(port); err != nil {
		return 0, fmt.Errorf("start postgres: %w", err)
	}
	pid, err := pg.start(ctx)
	if err != nil {
		return 0, fmt.Errorf("start postgres: %w", err)
	}
	if err := writeRunRecord(s.runDir(), namePostgres, runRecord{pid: pid, info: map[string]string{
		"port": strconv.Itoa(port), "cluster": pg.clusterDir, "socket": pg.socketDir, "bin": pg.binDir,
	}}); err != nil {
		return pid, err
	}
	return pid, nil
}

// addrs assembles the published addresses: ours, or the existing servers'.
func (la launcher) addrs(tPort, tUIPort, fPort int, pgURLMap map[string]string) stackAddrs {
	s := la.s
	a := stackAddrs{namespace: s.namespace}
	if s.extTemporalAddress != "" {
		a.temporal, a.temporalUI = s.extTemporalAddress, s.extTemporalUIURL
	} else {
		a.temporal, a.temporalUI = temporalAddress(tPort), temporalUIURL(tUIPort)
	}
	if s.externalPostgres() {
		a.inventory, a.payments = s.extInventoryURL, s.extPaymentsURL
	} else {
		a.inventory, a.payments = pgURLMap["inventory"], pgURLMap["payments"]
	}
	if s.extMongoURI != "" {
		a.mongo = s.extMongoURI
	} else {
		a.mongo = mongoURI(fPort)
	}
	return a
}

// currentAddrs are the addresses of a stack that is already up.
func (la launcher) currentAddrs(pg pgLayout, pgPort int, temporal, ferret ourServer) (stackAddrs, error) {
	s := la.s
	var urls map[string]string
	if !s.externalPostgres() {
		passwords, err := pg.loadOrCreatePasswords()
		if err != nil {
			return stackAddrs{}, err
		}
		urls = pgURLs(pgPort, passwords)
	}
	return la.addrs(infoPort(temporal.info, "port", s.ports.temporal), infoPort(temporal.info, "ui_port", s.ports.temporalUI),
		infoPort(ferret.info, "port", s.ports.mongo), urls), nil
}

// printExternal says which pieces are existing servers instead of ours.
func (la launcher) printExternal() {
	s := la.s
	if s.extTemporalAddress != "" {
		fmt.Fprintf(la.out, "Temporal    not started: using %s from %s\n", s.extTemporalAddress, config.EnvTemporalAddress)
	}
	if s.externalPostgres() {
		fmt.Fprintf(la.out, "PostgreSQL  not started: using %s and %s\n", config.EnvInventoryURL, config.EnvPaymentsURL)
	} else if s.pgPartial != "" {
		fmt.Fprintf(la.out, "PostgreSQL  note: only %s is set; the local cluster serves both, and the variable still wins for its service\n", s.pgPartial)
	}
	if s.extMongoURI != "" {
		fmt.Fprintf(la.out, "FerretDB    not started: using %s from %s\n", redact(s.extMongoURI), config.EnvMongoURI)
	}
}

// down stops what up started, removes the pid files and the stack file, and
// keeps the data.
func (la launcher) down(ctx context.Context) error {
	s := la.s
	if _, err := os.Stat(s.dataDir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(la.out, "stack not running")
		return nil
	}
	unlock, err := lockDir(s.dataDir, la.out)
	if err != nil {
		return err
	}
	defer unlock()

	stopped := 0
	var errs []error
	for _, p := range []struct {
		name, title string
		id          processIdentity
	}{
		{nameTemporal, "Temporal", temporalIdentity(s)},
		{nameFerretDB, "FerretDB", ferretDBIdentity(s)},
	} {
		pids := findProcesses(procRoot, p.id)
		if rec, err := readRunRecord(s.runDir(), p.name); err == nil && !slices.Contains(pids, rec.pid) {
			fmt.Fprintf(la.out, "%-11s pid file names pid %d, which is not ours any more: not signalled\n", p.title, rec.pid)
		}
		for _, pid := range pids {
			if err := stopProcessGroup(procRoot, pid, stopGrace); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
				continue
			}
			fmt.Fprintf(la.out, "%-11s stopped (pid %d)\n", p.title, pid)
			stopped++
		}
		if err := removeRunRecord(s.runDir(), p.name); err != nil {
			errs = append(errs, err)
		}
	}

	pg, _, ok, err := la.pgLayoutFor(ctx)
	if err != nil {
		errs = append(errs, err)
	} else if ok {
		if pm, running := pg.postmaster(); running {
			pid := pm.pid
			if err := pg.stop(ctx, pid); err != nil {
				errs = append(errs, err)
			} else {
				fmt.Fprintf(la.out, "%-11s stopped (pid %d), data kept in %s\n", "PostgreSQL", pid, pg.clusterDir)
				stopped++
			}
		}
	}
	if err := removeRunRecord(s.runDir(), namePostgres); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("down: %w", err)
	}
	if err := os.Remove(s.stackFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("down: %w", err)
	}
	if stopped == 0 {
		fmt.Fprintln(la.out, "stack not running")
		return nil
	}
	fmt.Fprintf(la.out, "stack down; data kept in %s\n", s.dataDir)
	return nil
}

// anythingRunning names the servers of ours that run.
func (la launcher) anythingRunning(ctx context.Context) ([]string, error) {
	s := la.s
	var names []string
	if len(findProcesses(procRoot, temporalIdentity(s))) > 0 {
		names = append(names, "Temporal")
	}
	if len(findProcesses(procRoot, ferretDBIdentity(s))) > 0 {
		names = append(names, "FerretDB")
	}
	pg, _, ok, err := la.pgLayoutFor(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		if _, running := pg.postmaster(); running {
			names = append(names, "PostgreSQL")
		}
	}
	return names, nil
}

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
		entries, err := os.ReadDir(s.dataDir)
		if err != nil {
			return fmt.Errorf("wipe: %w", err)
		}
		for _, e := range entries {
			if e.Name() == ".tools" {
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.dataDir, e.Name())); err != nil {
				return fmt.Errorf("wipe: %w", err)
			}
		}
		if err := os.Remove(s.dataDir); err != nil && !errors.Is(err, os.ErrNotExist) && !isNotEmpty(err) {
			return fmt.Errorf("wipe: %w", err)
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

func isNotEmpty(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not empty")
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

// status prints what runs and checks that it answers; errNotFullyUp when
// any piece is missing or not answering.
func (la launcher) status(ctx context.Context) error {
	s := la.s
	ok := true
	line := func(title, state string) { fmt.Fprintf(la.out, "%-19s %s\n", title, state) }
	probe := func(check func(context.Context) error) error {
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return check(cctx)
	}
	report := func(title, where string, pid int, err error) {
		switch {
		case err != nil:
			ok = false
			line(title, fmt.Sprintf("NOT ANSWERING at %s: %v", where, err))
		case pid > 0:
			line(title, fmt.Sprintf("up (pid %d) at %s", pid, where))
		default:
			line(title, "up at "+where+" (existing server)")
		}
	}
	down := func(title string) { ok = false; line(title, "down") }

	// Temporal.
	if s.extTemporalAddress != "" {
		report("Temporal", s.extTemporalAddress, 0, probe(func(ctx context.Context) error {
			return checkTemporal(ctx, s.extTemporalAddress, s.namespace, "")
		}))
	} else if t, up := la.findOurs(nameTemporal, temporalIdentity(s)); up {
		addr := temporalAddress(infoPort(t.info, "port", s.ports.temporal))
		ui := temporalUIURL(infoPort(t.info, "ui_port", s.ports.temporalUI))
		report("Temporal", addr+", Web UI "+ui, t.pid, probe(func(ctx context.Context) error {
			return checkTemporal(ctx, addr, s.namespace, ui)
		}))
	} else {
		down("Temporal")
	}

	// PostgreSQL.
	if s.externalPostgres() {
		urls := map[string]string{"inventory": s.extInventoryURL, "payments": s.extPaymentsURL}
		report("PostgreSQL", redact(s.extInventoryURL)+", "+redact(s.extPaymentsURL), 0,
			probe(func(ctx context.Context) error { return checkPostgres(ctx, urls) }))
	} else {
		pg, port, found, err := la.pgLayoutFor(ctx)
		if err != nil {
			return err
		}
		var pm postmasterInfo
		up := false
		if found {
			pm, up = pg.postmaster()
		}
		if up {
			pid := pm.pid
			passwords, err := pg.loadOrCreatePasswords()
			if err != nil {
				return err
			}
			urls := pgURLs(port, passwords)
			report("PostgreSQL", fmt.Sprintf("%s:%d (cluster %s)", listenHost, port, pg.clusterDir), pid,
				probe(func(ctx context.Context) error { return checkPostgres(ctx, urls) }))
		} else {
			down("PostgreSQL")
		}
	}

	// FerretDB.
	if s.extMongoURI != "" {
		report("MongoDB (FerretDB)", redact(s.extMongoURI), 0,
			probe(func(ctx context.Context) error { return checkMongo(ctx, s.extMongoURI, false) }))
	} else if f, up := la.findOurs(nameFerretDB, ferretDBIdentity(s)); up {
		uri := mongoURI(infoPort(f.info, "port", s.ports.mongo))
		report("MongoDB (FerretDB)", uri, f.pid, probe(func(ctx context.Context) error { return checkMongo(ctx, uri, false) }))
	} else {
		down("MongoDB (FerretDB)")
	}

	if fileExists(s.stackFile()) {
		fmt.Fprintf(la.out, "stack file: %s\n", s.stackFile())
	} else {
		ok = false
		fmt.Fprintf(la.out, "stack file: missing (%s)\n", s.stackFile())
	}
	if !ok {
		fmt.Fprintln(la.out, "stack not fully up: `make up` starts what is missing")
		return errNotFullyUp
	}
	return nil
}
