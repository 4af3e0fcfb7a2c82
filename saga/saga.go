package saga

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Options tune how a Saga compensates. The zero value is the recommended
// default: sequential, reverse order, continue on error.
type Options struct {
	// Parallel runs every registered compensation at once instead of one
	// after another in reverse order of registration.
	Parallel bool
	// StopOnError stops at the first compensation that fails for good (a
	// non-retryable error). By default every compensation is attempted and
	// the failures are collected in a *CompensationError.
	StopOnError bool
	// ActivityOptions apply to each compensation's first round of
	// attempts. A zero StartToCloseTimeout becomes 30s; a nil RetryPolicy
	// becomes 3 attempts from 1s, doubling. Its NonRetryableErrorTypes are
	// honoured in every round. Per compensation: CompensationOptions.
	ActivityOptions workflow.ActivityOptions
	// RetryBackoff and MaxRetryBackoff shape the retries after the first
	// round failed: the Temporal server retries the compensation without
	// an attempt limit or deadline, the wait starting at RetryBackoff and
	// doubling up to MaxRetryBackoff. Zero: 1s and 1m.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// Observer, when set, is told of each compensation's progress.
	Observer func(Event)
}

// CompensationOptions tune one compensation, registered with AddWithOptions.
type CompensationOptions struct {
	// Summary labels the compensation's activity in the Temporal UI and CLI
	// (the activity's user metadata), such as "Compensate ReserveStock:
	// release the stock of order o-1". Empty: Options.ActivityOptions.Summary.
	Summary string
	// ActivityOptions, when set, replace Options.ActivityOptions for this
	// compensation: its timeouts, retry policy (NonRetryableErrorTypes
	// included) and task queue. The same defaults apply to its zero fields.
	ActivityOptions *workflow.ActivityOptions
}

// ErrCompensated is returned by Add and AddWithOptions once Compensate has
// run: a compensation registered then would never run.
var ErrCompensated = errors.New("saga: compensation already ran; a compensation added now would never run")

// Saga is a stack of compensations owned by one workflow execution. It is
// not safe for use from several workflow coroutines at once, except for
// the operator actions (RetryNow, Resolve, Progress), which update
// handlers may call while Compensate runs.
type Saga struct {
	ctx   workflow.Context
	opts  Options
	stack []*compensation
	done  bool
}

// New returns an empty Saga for the workflow whose context is ctx.
func New(ctx workflow.Context, opts Options) *Saga {
	opts.ActivityOptions = withDefaults(opts.ActivityOptions)
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.MaxRetryBackoff <= 0 {
		opts.MaxRetryBackoff = time.Minute
	}
	return &Saga{ctx: ctx, opts: opts}
}

// withDefaults fills the zero timeout and retry policy of a compensation's
// first round.
func withDefaults(o workflow.ActivityOptions) workflow.ActivityOptions {
	if o.StartToCloseTimeout == 0 && o.ScheduleToCloseTimeout == 0 {
		o.StartToCloseTimeout = 30 * time.Second
	}
	if o.RetryPolicy == nil {
		o.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3}
	}
	return o
}

// Add registers activity, called with args, as the compensation of the step
// about to run. Register it before running the step: a step that timed out
// may have taken effect, and its compensation must then run. After
// Compensate it registers nothing and returns ErrCompensated.
func (s *Saga) Add(name string, activity any, args ...any) error {
	return s.AddWithOptions(name, CompensationOptions{}, activity, args...)
}

// AddWithOptions is Add with options for this compensation alone: the
// summary its activity shows in the Temporal UI, its activity options.
func (s *Saga) AddWithOptions(name string, opts CompensationOptions, activity any, args ...any) error {
	if s.done {
		return ErrCompensated
	}
	ao := s.opts.ActivityOptions
	if opts.ActivityOptions != nil {
		ao = withDefaults(*opts.ActivityOptions)
	}
	if opts.Summary != "" {
		ao.Summary = opts.Summary
	}
	s.stack = append(s.stack, &compensation{name: name, options: ao, activity: activity, args: args})
	return nil
}

// Names returns the registered compensations' names in registration order.
func (s *Saga) Names() []string {
	names := make([]string, len(s.stack))
	for i, c := range s.stack {
		names[i] = c.name
	}
	return names
}

// Compensate runs the registered compensations (once: a second call returns
// nil at once) on a context disconnected from the workflow's, so it works
// in a cancelled workflow too. It returns nil when every compensation
// succeeded or was resolved by hand, or a *CompensationError listing those
// that failed for good.
func (s *Saga) Compensate() error {
	if s.done {
		return nil
	}
	s.done = true
	ctx, _ := workflow.NewDisconnectedContext(s.ctx)
	var failures []CompensationFailure
	if s.opts.Parallel {
		failures = s.compensateParallel(ctx)
	} else {
		for i := len(s.stack) - 1; i >= 0; i-- {
			c := s.stack[i]
			if err := s.run(ctx, c); err != nil {
				failures = append(failures, CompensationFailure{Name: c.name, Err: err})
				if s.opts.StopOnError {
					break
				}
			}
		}
	}
	if len(failures) == 0 {
		return nil
	}
	return &CompensationError{Failures: failures}
}

func (s *Saga) compensateParallel(ctx workflow.Context) []CompensationFailure {
	errs := make([]error, len(s.stack))
	wg := workflow.NewWaitGroup(ctx)
	for i, c := range s.stack {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			errs[i] = s.run(ctx, c)
		})
	}
	wg.Wait(ctx)
	var failures []CompensationFailure
	for i, err := range errs {
		if err != nil {
			failures = append(failures, CompensationFailure{Name: s.stack[i].name, Err: err})
		}
	}
	return failures
}

func (s *Saga) notify(e Event) {
	if s.opts.Observer != nil {
		s.opts.Observer(e)
	}
}
