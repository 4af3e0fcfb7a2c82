package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// launchTemporal starts the Temporal dev server when this run starts it;
// waitTemporal waits for it.
func (r *upRun) launchTemporal() error {
	if !r.toStart.temporal {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(temporalDBPath(r.s)), 0o755); err != nil {
		return fmt.Errorf("start temporal: %w", err)
	}
	d, err := startTemporal(r.s, r.temporalBin, r.tPort, r.tUIPort)
	if err != nil {
		return err
	}
	r.temporalProc = d
	return r.track(nameTemporal, "Temporal", d, map[string]string{
		"port": strconv.Itoa(r.tPort), "ui_port": strconv.Itoa(r.tUIPort)})
}

// launchFerretDB starts FerretDB when this run starts it, on its database
// in PostgreSQL, which answers by now; waitFerretDB waits for it.
func (r *upRun) launchFerretDB(ctx context.Context) error {
	if !r.toStart.ferret {
		return nil
	}
	pgURL := r.s.extFerretDBPostgresURL
	if pgURL == "" {
		pgURL = r.pgURLMap[pgFerretDB]
	}
	if err := r.checkNoSQLiteData(ctx, pgURL); err != nil {
		return err
	}
	d, err := startFerretDB(r.s, r.ferretBin, r.fPort, withPoolMaxConns(pgURL, ferretDBPoolMaxConns))
	if err != nil {
		return err
	}
	r.ferretProc = d
	return r.track(nameFerretDB, "FerretDB", d, map[string]string{"port": strconv.Itoa(r.fPort)})
}

// checkNoSQLiteData refuses to start FerretDB on an empty database while
// the SQLite files of an earlier version hold documents that the
// PostgreSQL side of the stack refers to (they are not migrated); beside
// a database that has data, it only notes the unused folder.
func (r *upRun) checkNoSQLiteData(ctx context.Context, pgURL string) error {
	dir := sqliteFerretDBDir(r.s)
	files, err := sqliteDataFiles(dir)
	if err != nil {
		return fmt.Errorf("ferretdb: %w", err)
	}
	if len(files) == 0 {
		return nil
	}
	empty, err := ferretDBBackendEmpty(ctx, pgURL)
	if err != nil {
		return fmt.Errorf("ferretdb: %w", err)
	}
	if empty {
		return errSQLiteNotMigrated(dir)
	}
	fmt.Fprintf(r.out, "%-11s note: %s holds the SQLite files of an earlier version, unused now that FerretDB keeps its data in PostgreSQL; delete it to silence this\n",
		"FerretDB", dir)
	return nil
}

// track has the server d, just started, stopped on rollback, writes its pid
// file and says it is starting.
func (r *upRun) track(name, title string, d *detached, info map[string]string) error {
	runDir := r.s.runDir()
	r.undo = append(r.undo, func() {
		_ = stopProcessGroup(procRoot, d.pid, stopGrace)
		_ = removeRunRecord(runDir, name)
	})
	if err := writeRunRecord(runDir, name, runRecord{pid: d.pid, info: info}); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "%-11s starting (pid %d), log %s\n", title, d.pid, d.logPath)
	return nil
}

// bringUpPostgres starts our cluster when it is down, sets up its roles and
// databases, and waits until the services and FerretDB can connect.
func (r *upRun) bringUpPostgres(ctx context.Context) error {
	if r.s.externalPostgres() {
		return nil
	}
	pg := r.pg
	if r.toStart.pg {
		pid, err := r.startPostgres(ctx, pg, r.pgPort)
		if err != nil {
			return err
		}
		r.pgPID = pid
		runDir := r.s.runDir()
		r.undo = append(r.undo, func() {
			_ = pg.stop(context.Background(), pid)
			_ = removeRunRecord(runDir, namePostgres)
		})
	}
	passwords, err := pg.loadOrCreatePasswords()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	// A cluster this run starts, or that the FerretDB this run starts
	// needs, gets what it lacks (an older cluster has no ferretdb database).
	if r.toStart.pg || r.toStart.ferret {
		if err := pg.setup(ctx, r.pgPort, passwords); err != nil {
			return fmt.Errorf("postgres setup: %w", err)
		}
	} else if err := r.completeRunningCluster(ctx, pg, passwords); err != nil {
		return err
	}
	urls := pgURLs(r.pgPort, passwords)
	r.pgURLMap = urls
	err = waitReady(ctx, "PostgreSQL", nil, postgresReadyTimeout, func(ctx context.Context) error {
		return checkPostgres(ctx, urls)
	})
	if err != nil {
		return fmt.Errorf("%w; see %s", err, pg.logLink)
	}
	if r.toStart.pg {
		fmt.Fprintf(r.out, "PostgreSQL  up (pid %d), cluster %s\n", r.pgPID, pg.clusterDir)
	}
	return nil
}

// completeRunningCluster gives our cluster, running since an earlier up
// (of an earlier version, perhaps), the roles and databases it lacks, such
// as the reporting database, without restarting anything: FerretDB may run,
// so its indexes are left alone.
func (r *upRun) completeRunningCluster(ctx context.Context, pg pgLayout, passwords map[string]string) error {
	missing, err := pg.missingDatabases(ctx, r.pgPort)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(r.out, "PostgreSQL  creating what the running cluster lacks: %s\n", strings.Join(missing, ", "))
	if err := pg.setupDatabases(ctx, r.pgPort, passwords); err != nil {
		return fmt.Errorf("postgres setup: %w", err)
	}
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
		// Without its run record `down` could not find it: stop it now.
		if stopErr := pg.stop(context.Background(), pid); stopErr != nil {
			return 0, fmt.Errorf("%w (and stopping PostgreSQL failed: %v)", err, stopErr)
		}
		return 0, err
	}
	return pid, nil
}

// waitFerretDB waits until our FerretDB stores data.
func (r *upRun) waitFerretDB(ctx context.Context) error {
	if r.s.extMongoURI != "" {
		return nil
	}
	uri := mongoURI(r.fPort)
	return r.await(ctx, "FerretDB", r.ferretProc, r.toStart.ferret, ferretDBReadyTimeout, func(ctx context.Context) error {
		return checkMongo(ctx, uri, true)
	})
}

// waitTemporal waits until our Temporal and its Web UI answer.
func (r *upRun) waitTemporal(ctx context.Context) error {
	if r.s.extTemporalAddress != "" {
		return nil
	}
	addr, ui := temporalAddress(r.tPort), temporalUIURL(r.tUIPort)
	return r.await(ctx, "Temporal", r.temporalProc, r.toStart.temporal, temporalReadyTimeout, func(ctx context.Context) error {
		return checkTemporal(ctx, addr, r.s.namespace, ui)
	})
}

// await waits for a server of ours (d is nil unless this run started it)
// and, when this run started it, says it is up.
func (r *upRun) await(ctx context.Context, title string, d *detached, started bool, timeout time.Duration, check func(context.Context) error) error {
	if err := waitReady(ctx, title, d, timeout, check); err != nil {
		return err
	}
	if started {
		fmt.Fprintf(r.out, "%-11s up (pid %d)\n", title, d.pid)
	}
	return nil
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
