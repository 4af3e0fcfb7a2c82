package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/config"
)

// upRun is the state of one `up`: what runs already, what this run starts,
// and how to stop what it started should a later step fail.
type upRun struct {
	launcher

	// What runs already.
	temporal, ferret     runRecord // ours found running (see findOurs)
	temporalUp, ferretUp bool
	pg                   pgLayout // our cluster; unset when PostgreSQL is external
	pgPort, pgPID        int      // the running postmaster's, or the configured port

	// What this run starts, and which of those restart on the ports the
	// stack file publishes (stopped by stop, or died).
	toStart, kept struct{ temporal, ferret, pg bool }

	tPort, tUIPort, fPort    int // ours: the running servers' ports, else the configured ones
	temporalBin, ferretBin   string
	temporalProc, ferretProc *detached
	pgURLMap                 map[string]string // our cluster's URLs, by role

	undo []func() // stops what this run started, in start order
}

// up starts what is not running yet, waits until every server answers and
// writes the stack file.
func (la launcher) up(ctx context.Context) (err error) {
	began := time.Now()
	if err := la.s.checkPostgresVars(); err != nil {
		return err
	}
	if err := la.s.ensureDirs(); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	unlock, err := lockDir(la.s.dataDir, la.out)
	if err != nil {
		return err
	}
	defer unlock()

	r, err := la.inspect(ctx)
	if err != nil {
		return err
	}
	r.printNotes()
	// A server that stop (or a crash) took away leaves the stack file in
	// place: the shortcut holds only when every server runs, and the stack
	// file has what this version publishes (one written before the
	// reporting database existed has no REPORTING_DATABASE_URL: the
	// cluster gets the database below, and the stack file its URL).
	if r.nothingToStart() && fileExists(la.s.stackFile()) {
		missing := stackFileMissing(la.s.stackFile())
		if len(missing) == 0 {
			r.printAlreadyUp()
			return r.forgetStoppedPorts()
		}
		fmt.Fprintf(r.out, "stack file  lacks %s: completing the running stack\n", strings.Join(missing, ", "))
	}
	// Ports first, before building or starting anything.
	if err := r.checkPorts(); err != nil {
		return err
	}
	if err := r.buildTools(ctx); err != nil {
		return err
	}

	// From here on, stop what this run started if anything fails.
	defer func() {
		if err != nil {
			r.rollback()
		}
	}()
	// Temporal starts in the background while PostgreSQL starts; FerretDB,
	// which keeps its data in PostgreSQL, starts once PostgreSQL answers.
	if err := r.launchTemporal(); err != nil {
		return err
	}
	if err := r.bringUpPostgres(ctx); err != nil {
		return err
	}
	if err := r.launchFerretDB(ctx); err != nil {
		return err
	}
	if err := r.waitFerretDB(ctx); err != nil {
		return err
	}
	if err := r.waitTemporal(ctx); err != nil {
		return err
	}
	if err := r.writeStackFile(began); err != nil {
		return err
	}
	return r.forgetStoppedPorts()
}

// inspect finds what runs already and decides what this run starts.
func (la launcher) inspect(ctx context.Context) (*upRun, error) {
	s := la.s
	// A server not running restarts where the stack file says it was.
	pgPrev := la.previousPorts(namePostgres)
	r := &upRun{launcher: la, pgPort: infoPort(pgPrev, "port", s.ports.postgres)}
	r.kept.pg = pgPrev != nil
	r.temporal, r.temporalUp = la.findOurs(nameTemporal, temporalIdentity(s))
	r.ferret, r.ferretUp = la.findOurs(nameFerretDB, ferretDBIdentities(s)...)
	pgUp := false
	if !s.externalPostgres() {
		binDir, err := postgresBinDir()
		if err != nil {
			return nil, err
		}
		if r.pg, err = resolvePGLayout(ctx, s, binDir, r.pgPort); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if pm, running := r.pg.postmaster(); running {
			r.pgPID, pgUp, r.pgPort, r.pg.socketDir = pm.pid, true, pm.port, pm.socketDir
		}
	}
	r.toStart.temporal = s.extTemporalAddress == "" && !r.temporalUp
	r.toStart.ferret = s.extMongoURI == "" && !r.ferretUp
	r.toStart.pg = !s.externalPostgres() && !pgUp
	if err := r.checkFerretDBBackend(); err != nil {
		return nil, err
	}

	tInfo, fInfo := r.temporal.info, r.ferret.info
	if !r.temporalUp {
		tInfo = la.previousPorts(nameTemporal)
		r.kept.temporal = tInfo != nil
	}
	if !r.ferretUp {
		fInfo = la.previousPorts(nameFerretDB)
		r.kept.ferret = fInfo != nil
	}
	// Without a pid file or kept ports, the configured ports apply.
	r.tPort = infoPort(tInfo, "port", s.ports.temporal)
	r.tUIPort = infoPort(tInfo, "ui_port", s.ports.temporalUI)
	r.fPort = infoPort(fInfo, "port", s.ports.mongo)
	return r, nil
}

// checkFerretDBBackend refuses, before anything starts, a FerretDB that
// still runs on an earlier version's SQLite backend, and a FerretDB to
// start without a PostgreSQL database to keep its data in.
func (r *upRun) checkFerretDBBackend() error {
	s := r.s
	if s.extMongoURI != "" {
		return nil
	}
	if r.ferretUp && isOurProcess(procRoot, r.ferret.pid, sqliteFerretDBIdentity(s)) {
		return fmt.Errorf("FerretDB (pid %d) still runs on SQLite in %s, as an earlier version started it, and its documents are not migrated to PostgreSQL: "+
			"run `make down && make wipe && make up` (the data is demo data)", r.ferret.pid, sqliteFerretDBDir(s))
	}
	if r.toStart.ferret && s.externalPostgres() && s.extFerretDBPostgresURL == "" {
		return fmt.Errorf("FerretDB keeps its data in PostgreSQL, and %s replace our cluster: set %s to a database FerretDB may own, or %s",
			pgExternalVars(), envFerretDBPostgresURL, config.EnvMongoURI)
	}
	return nil
}

// nothingToStart reports whether every server of ours already runs.
func (r *upRun) nothingToStart() bool {
	return !r.toStart.temporal && !r.toStart.ferret && !r.toStart.pg
}

// printNotes says which pieces are existing servers, and which local
// servers still run although an existing server replaces them.
func (r *upRun) printNotes() {
	r.printExternal()
	if r.s.extTemporalAddress != "" && r.temporalUp {
		fmt.Fprintf(r.out, "Temporal    note: the local one started earlier still runs (pid %d); `make down` stops it\n", r.temporal.pid)
	}
	if r.s.extMongoURI != "" && r.ferretUp {
		fmt.Fprintf(r.out, "FerretDB    note: the local one started earlier still runs (pid %d); `make down` stops it\n", r.ferret.pid)
	}
	r.printPortNotes()
}

// printPortNotes says when a server this run starts again keeps the port
// the stack file publishes rather than the configured one.
func (r *upRun) printPortNotes() {
	p := r.s.ports
	for _, n := range []struct {
		title      string
		starts     bool
		port, conf int
	}{
		{"Temporal", r.toStart.temporal, r.tPort, p.temporal},
		{"Temporal UI", r.toStart.temporal, r.tUIPort, p.temporalUI},
		{"PostgreSQL", r.toStart.pg, r.pgPort, p.postgres},
		{"FerretDB", r.toStart.ferret, r.fPort, p.mongo},
	} {
		if n.starts && n.port != n.conf {
			fmt.Fprintf(r.out, "%-11s note: restarts on port %d, where the stack file has it, not on the configured %d; `make down` first to move it\n",
				n.title, n.port, n.conf)
		}
	}
}

// printExternal says which pieces are existing servers instead of ours.
func (la launcher) printExternal() {
	s := la.s
	if s.extTemporalAddress != "" {
		fmt.Fprintf(la.out, "Temporal    not started: using %s from %s\n", s.extTemporalAddress, config.EnvTemporalAddress)
	}
	if s.externalPostgres() {
		fmt.Fprintf(la.out, "PostgreSQL  not started: using %s\n", pgExternalVars())
	} else if s.pgPartial != "" {
		verb := "is"
		if strings.Contains(s.pgPartial, " and ") {
			verb = "are"
		}
		fmt.Fprintf(la.out, "PostgreSQL  note: only %s %s set; the local cluster serves every database, and a variable still wins for its database\n",
			s.pgPartial, verb)
	}
	if s.extMongoURI != "" {
		fmt.Fprintf(la.out, "FerretDB    not started: using %s from %s\n", redact(s.extMongoURI), config.EnvMongoURI)
	}
}

// printAlreadyUp prints the addresses of a stack that is already up.
func (r *upRun) printAlreadyUp() {
	fmt.Fprintln(r.out, "stack already up:")
	var urls map[string]string
	if !r.s.externalPostgres() {
		passwords, err := r.pg.loadOrCreatePasswords()
		if err != nil {
			return
		}
		urls = pgURLs(r.pgPort, passwords)
	}
	r.printAddrs(r.addrs(r.tPort, r.tUIPort, r.fPort, urls))
}

// checkPorts fails when a port of a server this run starts is taken.
func (r *upRun) checkPorts() error {
	p := r.s.ports
	var specs []portSpec
	add := func(start, kept bool, spec portSpec) {
		if !start {
			return
		}
		if kept {
			spec = spec.kept()
		}
		specs = append(specs, spec)
	}
	add(r.toStart.temporal, r.kept.temporal, p.temporalSpec().at(r.tPort))
	add(r.toStart.temporal, r.kept.temporal, p.temporalUISpec().at(r.tUIPort))
	add(r.toStart.pg, r.kept.pg, p.postgresSpec().at(r.pgPort))
	add(r.toStart.ferret, r.kept.ferret, p.mongoSpec().at(r.fPort))
	return checkPortsFree(specs)
}

// forgetStoppedPorts removes the ports stop kept: every server runs now,
// and its pid file records its ports.
func (r *upRun) forgetStoppedPorts() error {
	var errs []error
	for _, name := range []string{nameTemporal, namePostgres, nameFerretDB} {
		errs = append(errs, forgetPorts(r.s.runDir(), name))
	}
	return errors.Join(errs...)
}

// buildTools builds the binaries of the servers this run starts, when they
// are missing or out of date.
func (r *upRun) buildTools(ctx context.Context) error {
	var err error
	if r.toStart.ferret {
		if r.ferretBin, err = ensureFerretDB(ctx, r.s, r.out); err != nil {
			return err
		}
	}
	if r.toStart.temporal {
		if r.temporalBin, err = ensureTemporal(ctx, r.s, r.out); err != nil {
			return err
		}
	}
	return nil
}

// writeStackFile publishes the addresses in the stack file and prints them.
func (r *upRun) writeStackFile(began time.Time) error {
	a := r.addrs(r.tPort, r.tUIPort, r.fPort, r.pgURLMap)
	if err := config.WriteStackFile(r.s.stackFile(), a.values(), stackFileOrder()); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "stack up in %s:\n", time.Since(began).Round(100*time.Millisecond))
	r.printAddrs(a)
	return nil
}

// rollback stops, newest first, what this run started.
func (r *upRun) rollback() {
	if len(r.undo) == 0 {
		return
	}
	fmt.Fprintln(r.out, "start-up failed; stopping what this run started (logs stay in "+r.s.logsDir()+")")
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}
