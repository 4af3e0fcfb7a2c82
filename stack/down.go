package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
)

// down stops the worker, then what up started, removes the pid files, the
// ports stop kept and the stack file, and keeps the data.
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
	if err := forgetPorts(s.runDir(), namePostgres); err != nil {
		pgErrs = append(pgErrs, err)
	}
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

// detachedProc is a process of ours that runs in a session of its own,
// known by any of ids.
type detachedProc struct {
	name, title string
	ids         []processIdentity
}

// detachedProcs are our worker, Temporal and FerretDB, in the order down
// stops them.
func (la launcher) detachedProcs() []detachedProc {
	s := la.s
	return []detachedProc{
		{nameWorker, "Worker", []processIdentity{workerIdentity(s)}},
		{nameTemporal, "Temporal", []processIdentity{temporalIdentity(s)}},
		{nameFerretDB, "FerretDB", ferretDBIdentities(s)},
	}
}

// stopDetached stops every process of our worker (first, while the servers
// its running activities use are still up), Temporal and FerretDB, and
// removes their pid files and the ports stop kept; it returns how many
// processes it stopped.
func (la launcher) stopDetached() (stopped int, errs []error) {
	for _, p := range la.detachedProcs() {
		n, perrs := la.stopProcs(p)
		stopped += n
		errs = append(errs, perrs...)
		if err := forgetPorts(la.s.runDir(), p.name); err != nil {
			errs = append(errs, err)
		}
	}
	return stopped, errs
}

// stopProcs stops every process matching p (SIGTERM to its process group,
// SIGKILL after stopGrace) and removes its pid file; it returns how many
// processes it stopped.
func (la launcher) stopProcs(p detachedProc) (stopped int, errs []error) {
	runDir := la.s.runDir()
	pids := findProcesses(procRoot, p.ids...)
	if rec, err := readRunRecord(runDir, p.name); err == nil && !slices.Contains(pids, rec.pid) {
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
	if err := removeRunRecord(runDir, p.name); err != nil {
		errs = append(errs, err)
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
