package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// status prints what runs and checks that it answers; errNotFullyUp when
// any server is missing or not answering. The worker is listed, but
// optional.
func (la launcher) status(ctx context.Context) error {
	s := la.s
	if err := s.checkPostgresVars(); err != nil {
		return err
	}
	r := &statusReport{out: la.out, ok: true}
	la.statusTemporal(ctx, r)
	if err := la.statusPostgres(ctx, r); err != nil {
		return err
	}
	la.statusMongo(ctx, r)
	la.statusWorker(r)

	if fileExists(s.stackFile()) {
		fmt.Fprintf(la.out, "stack file: %s\n", s.stackFile())
	} else {
		r.ok = false
		fmt.Fprintf(la.out, "stack file: missing (%s)\n", s.stackFile())
	}
	if !r.ok {
		fmt.Fprintln(la.out, "stack not fully up: `make up` starts what is missing")
		return errNotFullyUp
	}
	return nil
}

// statusReport prints one line per piece and remembers whether every piece
// is up.
type statusReport struct {
	out io.Writer
	ok  bool
}

func (r *statusReport) line(title, state string) { fmt.Fprintf(r.out, "%-19s %s\n", title, state) }

// probe runs check on the piece at where (pid 0: an existing server, not
// ours) and reports it up or not answering.
func (r *statusReport) probe(ctx context.Context, title, where string, pid int, check func(context.Context) error) {
	cctx, cancel := context.WithTimeout(ctx, probeTimeout)
	err := check(cctx)
	cancel()
	switch {
	case err != nil:
		r.ok = false
		r.line(title, fmt.Sprintf("NOT ANSWERING at %s: %v", where, err))
	case pid > 0:
		r.line(title, fmt.Sprintf("up (pid %d) at %s", pid, where))
	default:
		r.line(title, "up at "+where+" (existing server)")
	}
}

// down reports a piece of ours that does not run; hint says where up
// restarts it, when that is known.
func (r *statusReport) down(title, hint string) {
	r.ok = false
	r.line(title, "down"+hint)
}

// restartHint says where up restarts the server name that is down, when
// the stack file publishes its address; else it is empty.
func (la launcher) restartHint(name string) string {
	if ports := la.previousPorts(name); ports != nil {
		return "; `make up` restarts it" + onAddress(name, ports)
	}
	return ""
}

// statusTemporal reports Temporal: the existing server, or ours.
func (la launcher) statusTemporal(ctx context.Context, r *statusReport) {
	s := la.s
	if s.extTemporalAddress != "" {
		r.probe(ctx, "Temporal", s.extTemporalAddress, 0, func(ctx context.Context) error {
			return checkTemporal(ctx, s.extTemporalAddress, s.namespace, "")
		})
	} else if t, up := la.findOurs(nameTemporal, temporalIdentity(s)); up {
		addr := temporalAddress(infoPort(t.info, "port", s.ports.temporal))
		ui := temporalUIURL(infoPort(t.info, "ui_port", s.ports.temporalUI))
		r.probe(ctx, "Temporal", addr+", Web UI "+ui, t.pid, func(ctx context.Context) error {
			return checkTemporal(ctx, addr, s.namespace, ui)
		})
	} else {
		r.down("Temporal", la.restartHint(nameTemporal))
	}
}

// statusPostgres reports PostgreSQL: the existing servers, or our cluster.
func (la launcher) statusPostgres(ctx context.Context, r *statusReport) error {
	s := la.s
	if s.externalPostgres() {
		urls := map[string]string{"inventory": s.extInventoryURL, "payments": s.extPaymentsURL, pgReporting: s.extReportingURL}
		r.probe(ctx, "PostgreSQL", redact(s.extInventoryURL)+", "+redact(s.extPaymentsURL)+", "+redact(s.extReportingURL), 0,
			func(ctx context.Context) error { return checkPostgres(ctx, urls) })
		return nil
	}
	pg, port, found, err := la.pgLayoutFor(ctx)
	if err != nil {
		return err
	}
	var pm postmasterInfo
	up := false
	if found {
		pm, up = pg.postmaster()
	}
	if !up {
		r.down("PostgreSQL", la.restartHint(namePostgres))
		return nil
	}
	passwords, err := pg.loadOrCreatePasswords()
	if err != nil {
		return err
	}
	// The databases the stack file publishes: a cluster made before
	// FerretDB moved to PostgreSQL gets FerretDB's on the next up that
	// starts FerretDB.
	urls := pgURLs(port, passwords)
	delete(urls, pgFerretDB)
	where := fmt.Sprintf("%s:%d (cluster %s)", listenHost, port, pg.clusterDir)
	// A cluster made before the reporting database existed gets it on the
	// next up; say so rather than that its role cannot log in.
	if lacks := la.pgLacks(ctx, pg, port); len(lacks) > 0 {
		r.ok = false
		r.line("PostgreSQL", fmt.Sprintf("up (pid %d) at %s, but without the database %s of this version; `make up` creates it",
			pm.pid, where, strings.Join(lacks, ", ")))
		return nil
	}
	r.probe(ctx, "PostgreSQL", where, pm.pid,
		func(ctx context.Context) error { return checkPostgres(ctx, urls) })
	return nil
}

// pgLacks returns the databases the stack file publishes that our running
// cluster lacks; nil when it has them all, or when it does not answer (the
// probe then says so).
func (la launcher) pgLacks(ctx context.Context, pg pgLayout, port int) []string {
	cctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	missing, err := pg.missingDatabases(cctx, port)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(missing, func(db string) bool { return db == pgFerretDB })
}

// statusMongo reports the MongoDB server: the existing one, or our FerretDB.
func (la launcher) statusMongo(ctx context.Context, r *statusReport) {
	s := la.s
	if s.extMongoURI != "" {
		r.probe(ctx, "MongoDB (FerretDB)", redact(s.extMongoURI), 0,
			func(ctx context.Context) error { return checkMongo(ctx, s.extMongoURI, false) })
	} else if f, up := la.findOurs(nameFerretDB, ferretDBIdentities(s)...); up {
		uri := mongoURI(infoPort(f.info, "port", s.ports.mongo))
		where := uri
		if isOurProcess(procRoot, f.pid, sqliteFerretDBIdentity(s)) {
			where += " on SQLite, as an earlier version started it (`make down && make wipe && make up` moves it to PostgreSQL)"
		}
		r.probe(ctx, "MongoDB (FerretDB)", where, f.pid, func(ctx context.Context) error { return checkMongo(ctx, uri, false) })
	} else {
		r.down("MongoDB (FerretDB)", la.restartHint(nameFerretDB))
	}
}

// statusWorker reports our saga worker, which the stack does not need.
func (la launcher) statusWorker(r *statusReport) {
	if w, up := la.findOurs(nameWorker, workerIdentity(la.s)); up {
		r.line("Worker", fmt.Sprintf("up (pid %d), log %s", w.pid, la.s.logFile(nameWorker)))
	} else if _, err := readRunRecord(la.s.runDir(), nameWorker); err == nil {
		r.line("Worker", "not running: the one started earlier exited, see "+la.s.logFile(nameWorker)+" (optional; `make worker` starts one)")
	} else {
		r.line("Worker", "not running (optional; `make worker` starts it)")
	}
}
