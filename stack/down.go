package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
)

// down stops the worker, then what up started, removes the pid files and
// the stack file, and keeps the data.
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

	stopped, errs := la.stopDetached()
	pgStopped, pgErrs := la.stopPostgres(ctx)
	stopped += pgStopped
	if err := errors.Join(append(errs, pgErrs...)...); err != nil {
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

// stopDetached stops every process of our worker (first, while the servers
// its running activities use are still up), Temporal and FerretDB, and
// removes their pid files; it returns how many processes it stopped.
func (la launcher) stopDetached() (stopped int, errs []error) {
	s := la.s
	for _, p := range []struct {
		name, title string
		id          processIdentity
	}{
		{nameWorker, "Worker", workerIdentity(s)},
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
	return stopped, errs
}

// stopPostgres stops our cluster when it runs and removes its pid file; it
// returns 1 when it stopped the cluster.
func (la launcher) stopPostgres(ctx context.Context) (stopped int, errs []error) {
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
	if err := removeRunRecord(la.s.runDir(), namePostgres); err != nil {
		errs = append(errs, err)
	}
	return stopped, errs
}
