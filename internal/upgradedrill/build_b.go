package upgradedrill

import "go.temporal.io/sdk/workflow"

// ChangeDrill is the drill saga's one change id: the gate that every saga
// of BuildB asks once, at its very start, for the version of the build that
// started it (workflows/versions.go's changeOrderSaga, in small).
const ChangeDrill = "drill"

// The versions of the drill saga, each naming what it changed. Sagas that
// BuildA started carry no marker: to BuildB they are workflow.DefaultVersion.
const (
	// versionChargeFirstCheck: Charge runs before Reserve, and a
	// read-only Check runs right before Ship.
	versionChargeFirstCheck workflow.Version = 1
)

// drillVersion is the version new sagas start on.
const drillVersion = versionChargeFirstCheck

// BuildB is BuildA changed the documented way (README, "Changing the saga's
// code"): Charge moved before Reserve, and a Check added before Ship (after
// the pause), both under the one version gate ChangeDrill that the saga
// asks before anything else, with BuildA's code kept as the other branch.
//
// The gate decides once per saga which build's design it runs, from start
// to end. A saga BuildA started (no marker in its history) replays
// DefaultVersion there and runs BuildA's path throughout, even at a point
// it reaches live on BuildB: one paused before Ship on BuildA resumes on
// BuildB without Check. A saga BuildB starts records version 1 and runs
// BuildB's path throughout. So a saga's compensations always match the
// forward steps it ran, in one build's order, and a change never meets a
// saga halfway through another design.
func BuildB(ctx workflow.Context, in Input) (Result, error) {
	return buildB(ctx, in, workflow.GetVersion)
}

// versionFunc is workflow.GetVersion's signature. The drill's test passes
// one that ignores the history (version 1 for every saga, those without a
// marker included), to show what BuildB would do to the parked sagas
// without the gate.
type versionFunc func(ctx workflow.Context, changeID string, minSupported, maxSupported workflow.Version) workflow.Version

// buildB is BuildB, asking getVersion for the saga's version at its start.
func buildB(ctx workflow.Context, in Input, getVersion versionFunc) (Result, error) {
	v := getVersion(ctx, ChangeDrill, workflow.DefaultVersion, drillVersion)
	r, err := begin(ctx)
	if err != nil {
		return Result{}, err
	}
	if v >= versionChargeFirstCheck {
		if err := r.step(Charge, Refund); err != nil {
			return r.abort(err)
		}
		if err := r.step(Reserve, Release); err != nil {
			return r.abort(err)
		}
	} else { // BuildA's order
		if err := r.step(Reserve, Release); err != nil {
			return r.abort(err)
		}
		if err := r.step(Charge, Refund); err != nil {
			return r.abort(err)
		}
	}
	r.pause(in)
	if v >= versionChargeFirstCheck {
		if err := r.step(Check, ""); err != nil {
			return r.abort(err)
		}
	}
	if err := r.step(Ship, CancelShip); err != nil {
		return r.abort(err)
	}
	return r.confirm()
}
