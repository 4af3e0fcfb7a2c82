// Package upgradedrill proves sagaflow's deploy procedure live: sagas that
// a build of a saga started and that were parked mid-flight when its worker
// was replaced finish correctly on the next build, which changed the saga
// behind the one version gate the procedure prescribes.
//
// BuildA and BuildB are two builds of one workflow type, WorkflowName,
// written with the public saga engine (package saga): what a deploy of the
// order saga looks like, small enough to read at a glance. BuildB is BuildA
// changed the documented way (README, "Changing the saga's code"): a step
// added and one reordered, both under one workflow.GetVersion gate that
// each saga asks at its start, so that a saga runs the design of the build
// that started it from start to end. TestUpgradeDrill runs the drill on the
// local stack's Temporal server.
package upgradedrill

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// WorkflowName is the workflow type both builds are registered under.
const WorkflowName = "DrillSaga"

// The activities the builds call, by name: the steps and, for those that
// change something, their compensations.
const (
	Reserve    = "Reserve"    // compensated by Release
	Charge     = "Charge"     // compensated by Refund
	Check      = "Check"      // read only: no compensation (sagas BuildB started only)
	Ship       = "Ship"       // compensated by CancelShip
	Confirm    = "Confirm"    // the pivot: after it, nothing is undone
	Release    = "Release"    // undoes Reserve
	Refund     = "Refund"     // undoes Charge
	CancelShip = "CancelShip" // undoes Ship
)

// QueryStatus is the query both builds answer with their Status.
const QueryStatus = "status"

// SignalResume ends the pause of a saga started with Input.PauseBeforeShip.
const SignalResume = "resume"

// The stages a Status reports.
const (
	StageRunning      = "running"
	StagePaused       = "paused"
	StageCompensating = "compensating"
	StageCompensated  = "compensated"
	StageConfirmed    = "confirmed"
)

// Input is a drill saga's input.
type Input struct {
	// PauseBeforeShip holds the saga before Ship (an operator's hold)
	// until it receives SignalResume.
	PauseBeforeShip bool
}

// Result is a completed saga's result.
type Result struct {
	// Steps are the steps that succeeded, in the order they ran.
	Steps []string
}

// Status is what QueryStatus answers.
type Status struct {
	// Stage is one of the Stage constants.
	Stage string
	// Steps are the steps that succeeded so far, in order.
	Steps []string
	// Compensations maps each registered compensation to its state
	// (saga.State's text: pending, running, failing, done, ...).
	Compensations map[string]string
}

// run is one saga execution: its saga engine and what it did so far. Both
// builds share it, as two commits of one file share unchanged code.
type run struct {
	ctx    workflow.Context
	saga   *saga.Saga
	status Status
}

// begin sets up a saga execution and its status query.
func begin(ctx workflow.Context) (*run, error) {
	ctx = workflow.WithActivityOptions(ctx, stepOptions())
	r := &run{ctx: ctx, saga: saga.New(ctx, compensationOptions()), status: Status{Stage: StageRunning}}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, r.query); err != nil {
		return nil, err
	}
	return r, nil
}

// stepOptions are the forward steps' activity options: retried without
// limit (a business error, non-retryable, ends a step), quickly enough for
// a drill that replaces a worker.
func stepOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Second},
	}
}

// compensationOptions make the saga's compensations reach their
// server-retried phase (saga.FailingState) after FirstRoundAttempts.
func compensationOptions() saga.Options {
	return saga.Options{
		ActivityOptions: workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumAttempts: FirstRoundAttempts},
		},
		RetryBackoff:    200 * time.Millisecond,
		MaxRetryBackoff: time.Second,
	}
}

// FirstRoundAttempts is the attempts of a compensation's first round; the
// Temporal server retries it after them.
const FirstRoundAttempts = 2

// step registers the compensation undo (none when empty) and then runs the
// step name.
func (r *run) step(name, undo string) error {
	if undo != "" {
		if err := r.saga.Add(undo, undo); err != nil {
			return err
		}
	}
	if err := workflow.ExecuteActivity(r.ctx, name).Get(r.ctx, nil); err != nil {
		return err
	}
	r.status.Steps = append(r.status.Steps, name)
	return nil
}

// pause holds the saga until SignalResume when in asks for it.
func (r *run) pause(in Input) {
	if !in.PauseBeforeShip {
		return
	}
	r.status.Stage = StagePaused
	workflow.GetSignalChannel(r.ctx, SignalResume).Receive(r.ctx, nil)
	r.status.Stage = StageRunning
}

// abort compensates after a step failed with cause and returns what the
// workflow ends with: cause itself once everything was undone.
func (r *run) abort(cause error) (Result, error) {
	r.status.Stage = StageCompensating
	err := r.saga.Abort(cause)
	r.status.Stage = StageCompensated
	return Result{Steps: r.status.Steps}, err
}

// confirm runs the pivot. A refused confirmation undoes the saga; once it
// succeeded, nothing is undone.
func (r *run) confirm() (Result, error) {
	if err := r.step(Confirm, ""); err != nil {
		return r.abort(err)
	}
	r.status.Stage = StageConfirmed
	return Result{Steps: r.status.Steps}, nil
}

// query answers QueryStatus.
func (r *run) query() (Status, error) {
	st := r.status
	st.Steps = append([]string(nil), r.status.Steps...)
	st.Compensations = map[string]string{}
	for _, name := range r.saga.Names() {
		p, err := r.saga.Progress(name)
		if err != nil {
			return Status{}, err
		}
		st.Compensations[name] = p.State.String()
	}
	return st, nil
}
