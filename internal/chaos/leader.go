package chaos

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sagaflow/sagaflow/internal/readstore"
)

// The projector leader faults. Every worker runs a projector; the one
// holding the read store's lease writes. leaseTTL is the lease's length
// (the default of projector.Options.TTL): a standby takes over once the
// killed or paused leader's last renewal has run out.
const (
	leaseTTL = 5 * time.Second
	// LeaderPause is how long a paused leader stays stopped: past its lease,
	// so that a standby takes over and the leader, continued, tries to
	// write with a lease it lost (and must be fenced off).
	LeaderPause = leaseTTL + 3*time.Second
	// leaderWait bounds the wait for a worker of the fleet to lead (another
	// process, outside the run, may hold the lease).
	leaderWait = 10 * time.Second
	// grantWait bounds the wait for the lease's next grant after the
	// leader was taken away.
	grantWait = 3 * FailoverBound
)

// Failover is one projector leader taken away and the lease granted again.
type Failover struct {
	Kind   FaultKind `json:"kind"`
	Worker int       `json:"worker"`
	// Holder and Epoch are the lease of the leader taken away.
	Holder string `json:"holder"`
	Epoch  int64  `json:"epoch"`
	// NewHolder and NewEpoch are the next grant (NewEpoch 0: none within
	// grantWait).
	NewHolder string `json:"new_holder,omitempty"`
	NewEpoch  int64  `json:"new_epoch,omitempty"`
	// Took is the time from the signal to the next grant (the grant's
	// time by the database's clock when it falls between the signal and
	// the poll that saw it, else the poll's time; polled every 100 ms), or
	// the time waited when there was none.
	Took time.Duration `json:"failover_ns"`
}

func (f Failover) String() string {
	if f.NewEpoch == 0 {
		return fmt.Sprintf("%s (worker %d, epoch %d): no new grant within %s", f.Kind, f.Worker, f.Epoch, f.Took.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s (worker %d, epoch %d): epoch %d granted after %s", f.Kind, f.Worker, f.Epoch, f.NewEpoch, f.Took.Round(time.Millisecond))
}

// hitLeader SIGKILLs (restarting it after f.Down), pauses (for f.Down)
// or cuts off from PostgreSQL (for f.Down) the worker that holds the
// projector's lease, and measures the failover:
// the time until the lease's next grant. When no worker of the fleet leads
// within leaderWait, it skips the fault.
func (r *Runner) hitLeader(ctx context.Context, f Fault, fig *Figures, mu *sync.Mutex) error {
	worker, lease, ok := r.findLeader(ctx)
	if !ok {
		mu.Lock()
		defer mu.Unlock()
		fig.ProjectorFaultsSkipped++
		if r.Progress != nil && ctx.Err() == nil {
			fmt.Fprintf(r.Progress, "%s skipped: no worker of the run led the projectors within %s (lease holder %q)\n", f.Kind, leaderWait, lease.Holder)
		}
		return nil
	}
	grantCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	signalled := time.Now()
	granted := make(chan Failover, 1)
	go func() { granted <- r.awaitGrant(grantCtx, lease.Epoch, signalled) }()
	var err error
	var n *int
	switch f.Kind {
	case FaultProjectorKill:
		n = &fig.ProjectorKills
		if err = r.Fleet.Signal(worker, syscall.SIGKILL, 15*time.Second); err == nil {
			sleep(ctx, f.Down)
			err = r.Fleet.Start(worker)
		}
	case FaultProjectorPause:
		n = &fig.ProjectorPauses
		if err = r.Fleet.Pause(worker); err == nil {
			sleep(ctx, f.Down)
			err = r.Fleet.Continue(worker)
		}
	case FaultProjectorPartition:
		n = &fig.ProjectorPartitions
		if r.Partitions == nil {
			return fmt.Errorf("a partition without the workers' proxies")
		}
		if err = r.Partitions.Cut(worker, ServerPostgres); err == nil {
			sleep(ctx, f.Down)
			err = r.Partitions.Heal(worker, ServerPostgres)
		}
	default:
		return fmt.Errorf("%s is not a projector leader fault", f.Kind)
	}
	if err != nil {
		return err
	}
	fo := <-granted
	if ctx.Err() != nil {
		return nil // interrupted: no failover to judge
	}
	fo.Kind, fo.Worker, fo.Holder = f.Kind, worker, lease.Holder
	mu.Lock()
	*n++
	fig.Failovers = append(fig.Failovers, fo)
	fig.MaxFailover = max(fig.MaxFailover, fo.Took)
	mu.Unlock()
	return nil
}

// findLeader returns the worker of the fleet that holds the projector's
// live lease, and the lease, waiting up to leaderWait for one; ok is false
// when none does (the last lease read is returned).
func (r *Runner) findLeader(ctx context.Context) (worker int, lease readstore.LeaseState, ok bool) {
	host, _ := os.Hostname()
	deadline := time.Now().Add(leaderWait)
	for {
		st, err := r.ReadStore.LeaseState(ctx, readstore.LeaseName)
		if err == nil { // a failed read (the database restarting) is tried again
			lease = st
			if pid, ok := HolderPID(st.Holder, host); ok && st.Live {
				if i, ok := r.Fleet.WorkerOf(pid); ok {
					return i, st, true
				}
			}
		}
		if time.Now().After(deadline) {
			return -1, lease, false
		}
		select {
		case <-ctx.Done():
			return -1, lease, false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// awaitGrant polls the lease every 100 ms until an epoch above epoch is
// granted, and returns the failover since signalled; it gives up after
// grantWait (or when ctx ends) with what it waited.
func (r *Runner) awaitGrant(ctx context.Context, epoch int64, signalled time.Time) Failover {
	deadline := signalled.Add(grantWait)
	for {
		st, err := r.ReadStore.LeaseState(ctx, readstore.LeaseName)
		seen := time.Now()
		if err == nil && st.Epoch > epoch {
			took := seen.Sub(signalled)
			if st.Granted.After(signalled) && st.Granted.Before(seen) {
				took = st.Granted.Sub(signalled)
			}
			return Failover{Epoch: epoch, NewHolder: st.Holder, NewEpoch: st.Epoch, Took: took}
		}
		if seen.After(deadline) {
			return Failover{Epoch: epoch, Took: seen.Sub(signalled)}
		}
		select {
		case <-ctx.Done():
			return Failover{Epoch: epoch, Took: time.Since(signalled)}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// HolderPID returns the process id in a projector's lease holder name,
// "<hostname>-<pid>-<random>" (projector.Options.Holder's default), when
// the holder runs on host.
func HolderPID(holder, host string) (int, bool) {
	rest, ok := strings.CutPrefix(holder, host+"-")
	if !ok {
		return 0, false
	}
	pid, random, ok := strings.Cut(rest, "-")
	if !ok || random == "" || strings.Contains(random, "-") {
		return 0, false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
