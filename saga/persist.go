package saga

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ErrNotFailing is returned by the operator actions (RetryNow, Resolve) when
// the call they name is not failing: it is still in its first round, has
// not started, or has ended.
var ErrNotFailing = errors.New("not failing")

// errAbandoned ends a Persistent whose failing activity an operator declared
// done by hand.
var errAbandoned = errors.New("abandoned by an operator")

// Persistent runs one activity until it succeeds or fails for good, with a
// workflow history that stays small however long that takes. The saga runs
// every compensation through one; a workflow may run its pivot (the step
// after which nothing is undone) through one too.
//
// The first round runs under Options, whose retry policy or deadline must
// bound it. When it fails with a retryable error, OnFailing is called (to
// make the failure visible: a status, a search attribute) and the activity
// is scheduled again with a retry policy without an attempt limit or a
// deadline, the wait starting at Backoff and doubling up to MaxBackoff. The
// Temporal server does those retries: they write no history event, and the
// pending activity (temporal workflow describe, the Web UI) shows their
// attempt count and last failure. An error that is non-retryable, or whose
// type is in the retry policy's NonRetryableErrorTypes, ends it.
//
// While the activity is failing an operator may run it again at once
// (RetryNow); a running attempt is let finish first, so two attempts never
// overlap.
type Persistent struct {
	// Name names the call in version markers; unique in the workflow.
	Name string
	// Options are the first round's; they need a retry policy.
	Options workflow.ActivityOptions
	// Local runs the first round as a local activity with the timeouts
	// and retry policy of Options.
	Local bool
	// Backoff and MaxBackoff shape the server's retries after the first
	// round. Zero: 1s and 1m.
	Backoff, MaxBackoff time.Duration
	// OnRound, when set, is called as each round starts, from 1.
	OnRound func(round int)
	// OnFailing, when set, is called when a round failed with a retryable
	// error, before the next one.
	OnFailing func(round int, err error)

	// legacyRounds keeps, for histories recorded before the server's
	// retries, the former rounds of attempts with a workflow timer between
	// them, until the history's end (see runLegacy).
	legacyRounds bool
	round        int
	failing      bool
	cancel       workflow.CancelFunc
	action       action
}

// action is what an operator asked of a failing Persistent.
type action int

const (
	actionNone action = iota
	actionRetry
	actionAbandon
)

// Run runs activity with args as described on Persistent and returns the
// future of the attempt that ended it, for its result, or its error.
func (p *Persistent) Run(ctx workflow.Context, activity any, args ...any) (workflow.Future, error) {
	if p.Options.RetryPolicy == nil {
		return nil, fmt.Errorf("persistent %s: the first round needs a retry policy that bounds it", p.Name)
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Second
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = time.Minute
	}
	p.start(1)
	fut := p.first(ctx, activity, args)
	err := fut.Get(ctx, nil)
	backoff := p.Backoff
	for {
		if err == nil || isFinal(err, p.Options.RetryPolicy) {
			return fut, err
		}
		p.failed(err)
		if !p.legacyRounds || workflow.GetVersion(ctx, p.changeID(), workflow.DefaultVersion, 1) == 1 {
			return p.persist(ctx, activity, args)
		}
		// A history recorded before server retries: replay its timer.
		if err := workflow.Sleep(ctx, backoff); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, p.MaxBackoff)
		p.start(p.round + 1)
		fut = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, p.Options), activity, args...)
		err = fut.Get(ctx, nil)
	}
}

// changeID names the decision, after a round failed, between the former
// timer rounds and the server's retries. It is decided once per round: a
// replayed round that waited on a timer keeps doing so, and the first round
// that fails on the current code records a version marker and switches, so
// a saga recorded mid-retry by an older build moves to server retries too.
func (p *Persistent) changeID() string {
	return fmt.Sprintf("saga-server-retries-%s-%d", p.Name, p.round)
}

func (p *Persistent) first(ctx workflow.Context, activity any, args []any) workflow.Future {
	o := p.Options
	if p.Local {
		lo := workflow.LocalActivityOptions{StartToCloseTimeout: o.StartToCloseTimeout,
			ScheduleToCloseTimeout: o.ScheduleToCloseTimeout, RetryPolicy: o.RetryPolicy, Summary: o.Summary}
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, lo), activity, args...)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, o), activity, args...)
}

// persistentOptions are the options of the rounds the server retries.
func (p *Persistent) persistentOptions() workflow.ActivityOptions {
	o := p.Options
	if o.StartToCloseTimeout == 0 {
		o.StartToCloseTimeout = o.ScheduleToCloseTimeout
	}
	o.ScheduleToCloseTimeout = 0
	rp := *o.RetryPolicy
	// No attempt limit: math.MaxInt32 attempts at least a second apart
	// outlast any saga (68 years), and unlike 0 (unlimited on the server)
	// the SDK's test environment honours it too (it reads 0 as 10).
	rp.InitialInterval, rp.BackoffCoefficient, rp.MaximumInterval, rp.MaximumAttempts = p.Backoff, 2, p.MaxBackoff, math.MaxInt32
	o.RetryPolicy = &rp
	o.WaitForCancellation = true
	return o
}

// persist schedules the activity with the server's retries until it
// succeeds, fails for good, or an operator abandons it.
func (p *Persistent) persist(ctx workflow.Context, activity any, args []any) (workflow.Future, error) {
	o := p.persistentOptions()
	for {
		p.start(p.round + 1)
		actx, cancel := workflow.WithCancel(ctx)
		p.failing, p.cancel, p.action = true, cancel, actionNone
		fut := workflow.ExecuteActivity(workflow.WithActivityOptions(actx, o), activity, args...)
		err := fut.Get(ctx, nil)
		asked := p.action
		p.failing, p.cancel, p.action = false, nil, actionNone
		cancel()
		switch {
		case err == nil:
			return fut, nil
		case asked == actionAbandon:
			return nil, errAbandoned
		case asked == actionRetry:
			continue
		case isFinal(err, o.RetryPolicy):
			return fut, err
		}
		// It ended although nobody asked and the server retries without
		// limit (a cancellation from outside, say): wait before the next
		// round, so that this loop cannot fill the history.
		p.failed(err)
		if err := workflow.Sleep(ctx, p.MaxBackoff); err != nil {
			return nil, err
		}
	}
}

func (p *Persistent) start(round int) {
	p.round = round
	if p.OnRound != nil {
		p.OnRound(round)
	}
}

func (p *Persistent) failed(err error) {
	if p.OnFailing != nil {
		p.OnFailing(p.round, err)
	}
}

// Failing reports whether the activity is failing: its first round failed
// and the server retries it.
func (p *Persistent) Failing() bool { return p.failing }

// Round is the current round, from 1 (0 before Run).
func (p *Persistent) Round() int { return p.round }

// RetryNow ends the failing activity's wait for its next attempt: it is
// scheduled again at once (after a running attempt ends). It returns
// ErrNotFailing unless Failing.
func (p *Persistent) RetryNow() error { return p.ask(actionRetry) }

func (p *Persistent) ask(a action) error {
	if !p.failing || p.action != actionNone {
		return ErrNotFailing
	}
	p.action = a
	p.cancel()
	return nil
}

// isFinal reports whether a failure must not be retried: a non-retryable
// application error, one whose type the retry policy lists as
// non-retryable, or one the server says it will not retry.
func isFinal(err error, rp *temporal.RetryPolicy) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if appErr.NonRetryable() || (rp != nil && slices.Contains(rp.NonRetryableErrorTypes, appErr.Type())) {
			return true
		}
	}
	var actErr *temporal.ActivityError
	return errors.As(err, &actErr) && actErr.RetryState() == enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
}
