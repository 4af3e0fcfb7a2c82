package upgradedrill

import (
	"context"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// outcome is how one activity attempt ended.
type outcome string

const (
	applied     outcome = "applied"     // it succeeded: its effect happened
	failed      outcome = "failed"      // a retryable error: retried
	refused     outcome = "refused"     // a business error: not retried
	interrupted outcome = "interrupted" // its worker stopped under it
)

// attempt is one recorded activity attempt.
type attempt struct {
	Activity string
	Build    string // the build of the worker that ran it
	Attempt  int32
	Outcome  outcome
	// Late: it started after the test had stopped the worker of Build.
	Late bool
}

// plan is how the fake activities behave for one saga, and the controls
// the test uses to move it on.
type plan struct {
	// blockShip: Ship blocks until release is closed (or its worker stops).
	blockShip bool
	release   chan struct{}
	entered   chan struct{} // closed when Ship first blocks
	once      sync.Once
	// refuseShip: Ship fails with a business error.
	refuseShip bool
	// refundFails: Refund fails with a retryable error while it is true.
	refundFails atomic.Bool
}

// fakes are the drill's activities' side effects: every attempt of every
// saga, recorded, and each saga's plan.
type fakes struct {
	mu       sync.Mutex
	plans    map[string]*plan
	attempts map[string][]attempt
	stopped  map[string]bool // the builds whose worker the test stopped
}

// newFakes returns fakes with no plan and nothing recorded.
func newFakes() *fakes {
	return &fakes{plans: map[string]*plan{}, attempts: map[string][]attempt{}, stopped: map[string]bool{}}
}

// stop notes that the worker of build has stopped: an attempt that starts
// on it now is Late.
func (f *fakes) stop(build string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped[build] = true
}

// plan registers the behaviour of the saga whose workflow id is id; every
// saga needs one before it starts.
func (f *fakes) plan(id string, p *plan) *plan {
	p.release, p.entered = make(chan struct{}), make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans[id] = p
	return p
}

// do runs one attempt of the activity name for the saga of ctx, on a worker
// of build, as the saga's plan says, and records it.
func (f *fakes) do(ctx context.Context, build, name string) error {
	info := activity.GetInfo(ctx)
	id := info.WorkflowExecution.ID
	f.mu.Lock()
	p, late := f.plans[id], f.stopped[build]
	f.mu.Unlock()
	if p == nil {
		return temporal.NewNonRetryableApplicationError("no plan for saga "+id, "NoPlan", nil)
	}
	out, err := p.behave(ctx, name)
	f.mu.Lock()
	f.attempts[id] = append(f.attempts[id], attempt{Activity: name, Build: build, Attempt: info.Attempt, Outcome: out, Late: late})
	f.mu.Unlock()
	return err
}

func (p *plan) behave(ctx context.Context, name string) (outcome, error) {
	switch {
	case name == Ship && p.blockShip:
		p.once.Do(func() { close(p.entered) })
		select {
		case <-p.release:
		case <-ctx.Done():
			return interrupted, ctx.Err()
		}
	case name == Ship && p.refuseShip:
		return refused, temporal.NewNonRetryableApplicationError("no carrier serves this address", "ShipRefused", nil)
	case name == Refund && p.refundFails.Load():
		return failed, temporal.NewApplicationError("payment provider unavailable", "ProviderDown")
	}
	return applied, nil
}

// all returns the saga's attempts, in the order they ended.
func (f *fakes) all(id string) []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]attempt(nil), f.attempts[id]...)
}

// effects returns the saga's applied attempts as "Activity@Build", in the
// order they happened: what the saga did to the world, and on which build.
func (f *fakes) effects(id string) []string {
	var out []string
	for _, a := range f.all(id) {
		if a.Outcome == applied {
			out = append(out, a.Activity+"@"+a.Build)
		}
	}
	return out
}

// count counts the saga's attempts of activity that ended with o on build
// ("" for any build).
func (f *fakes) count(id, activity, build string, o outcome) int {
	n := 0
	for _, a := range f.all(id) {
		if a.Activity == activity && a.Outcome == o && (build == "" || a.Build == build) {
			n++
		}
	}
	return n
}

// late returns every saga's Late attempts.
func (f *fakes) late() []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []attempt
	for _, as := range f.attempts {
		for _, a := range as {
			if a.Late {
				out = append(out, a)
			}
		}
	}
	return out
}

// activities are the fake activity functions one worker registers: each
// records, through fakes, that it ran on build.
type activities struct {
	build string
	f     *fakes
}

// Reserve and the methods below are the activities, one per name in
// drill.go, registered under their method names.
func (a *activities) Reserve(ctx context.Context) error { return a.f.do(ctx, a.build, Reserve) }
func (a *activities) Charge(ctx context.Context) error  { return a.f.do(ctx, a.build, Charge) }
func (a *activities) Check(ctx context.Context) error   { return a.f.do(ctx, a.build, Check) }
func (a *activities) Ship(ctx context.Context) error    { return a.f.do(ctx, a.build, Ship) }
func (a *activities) Confirm(ctx context.Context) error { return a.f.do(ctx, a.build, Confirm) }
func (a *activities) Release(ctx context.Context) error { return a.f.do(ctx, a.build, Release) }
func (a *activities) Refund(ctx context.Context) error  { return a.f.do(ctx, a.build, Refund) }
func (a *activities) CancelShip(ctx context.Context) error {
	return a.f.do(ctx, a.build, CancelShip)
}
