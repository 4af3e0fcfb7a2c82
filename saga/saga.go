package saga

import (
	"errors"
	"fmt"
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
	// the failures are joined.
	StopOnError bool
	// ActivityOptions apply to each compensation activity. A zero
	// StartToCloseTimeout becomes 30s; a nil RetryPolicy becomes 3 attempts
	// from 1s, doubling.
	ActivityOptions workflow.ActivityOptions
	// RetryBackoff is the wait after a round of attempts fails, doubling up
	// to MaxRetryBackoff; rounds repeat without limit. Zero: 1s and 1m.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// Observer, when set, is told of each compensation's progress.
	Observer func(Event)
}

// EventKind says what happened to a compensation.
type EventKind int

// The kinds of Event.
const (
	// Started: a round of the compensation began.
	Started EventKind = iota + 1
	// Retrying: a round failed with a retryable error; another follows after a backoff.
	Retrying
	// Failed: the compensation failed for good (a non-retryable error).
	Failed
	// Compensated: the compensation succeeded.
	Compensated
)

func (k EventKind) String() string {
	switch k {
	case Started:
		return "started"
	case Retrying:
		return "retrying"
	case Failed:
		return "failed"
	case Compensated:
		return "compensated"
	}
	return "unknown"
}

// Event reports the progress of one compensation to Options.Observer.
type Event struct {
	Kind EventKind
	// Name is the name the compensation was registered with.
	Name string
	// Round counts the rounds of attempts so far, from 1.
	Round int
	// Err is the failure of the round, for Retrying and Failed.
	Err error
	// Result decodes the activity's result, for Compensated (nil otherwise).
	Result func(valuePtr any) error
}

type compensation struct {
	name     string
	opts     CompensationOptions
	activity any
	args     []any
}

// CompensationOptions tune one compensation, registered with AddWithOptions.
type CompensationOptions struct {
	// Summary labels the compensation's activity in the Temporal UI and CLI
	// (the activity's user metadata), such as "Compensate ReserveStock:
	// release the stock of order o-1". Empty: Options.ActivityOptions.Summary.
	Summary string
}

// Saga is a stack of compensations owned by one workflow execution. It is
// not safe for use from several workflow coroutines at once.
type Saga struct {
	ctx   workflow.Context
	opts  Options
	stack []compensation
	done  bool
}

// New returns an empty Saga for the workflow whose context is ctx.
func New(ctx workflow.Context, opts Options) *Saga {
	if opts.ActivityOptions.StartToCloseTimeout == 0 && opts.ActivityOptions.ScheduleToCloseTimeout == 0 {
		opts.ActivityOptions.StartToCloseTimeout = 30 * time.Second
	}
	if opts.ActivityOptions.RetryPolicy == nil {
		opts.ActivityOptions.RetryPolicy = &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3,
		}
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.MaxRetryBackoff <= 0 {
		opts.MaxRetryBackoff = time.Minute
	}
	return &Saga{ctx: ctx, opts: opts}
}

// Add registers activity, called with args, as the compensation of the step
// about to run. Register it before running the step: a step that timed out
// may have taken effect, and its compensation must then run.
func (s *Saga) Add(name string, activity any, args ...any) {
	s.AddWithOptions(name, CompensationOptions{}, activity, args...)
}

// AddWithOptions is Add with options for this compensation alone, such as
// the summary its activity shows in the Temporal UI.
func (s *Saga) AddWithOptions(name string, opts CompensationOptions, activity any, args ...any) {
	s.stack = append(s.stack, compensation{name: name, opts: opts, activity: activity, args: args})
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
// succeeded, or the joined failures.
func (s *Saga) Compensate() error {
	if s.done {
		return nil
	}
	s.done = true
	ctx, _ := workflow.NewDisconnectedContext(s.ctx)
	ctx = workflow.WithActivityOptions(ctx, s.opts.ActivityOptions)
	if s.opts.Parallel {
		return s.compensateParallel(ctx)
	}
	var errs []error
	for i := len(s.stack) - 1; i >= 0; i-- {
		if err := s.run(ctx, s.stack[i]); err != nil {
			errs = append(errs, err)
			if s.opts.StopOnError {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Saga) compensateParallel(ctx workflow.Context) error {
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
	return errors.Join(errs...)
}

// run executes one compensation in rounds until it succeeds or fails for good.
func (s *Saga) run(ctx workflow.Context, c compensation) error {
	if c.opts.Summary != "" {
		ao := s.opts.ActivityOptions
		ao.Summary = c.opts.Summary
		ctx = workflow.WithActivityOptions(ctx, ao)
	}
	backoff := s.opts.RetryBackoff
	for round := 1; ; round++ {
		s.notify(Event{Kind: Started, Name: c.name, Round: round})
		fut := workflow.ExecuteActivity(ctx, c.activity, c.args...)
		err := fut.Get(ctx, nil)
		if err == nil {
			s.notify(Event{Kind: Compensated, Name: c.name, Round: round, Result: func(v any) error { return fut.Get(ctx, v) }})
			return nil
		}
		if isFinal(err) {
			s.notify(Event{Kind: Failed, Name: c.name, Round: round, Err: err})
			return fmt.Errorf("compensation %s: %w", c.name, err)
		}
		s.notify(Event{Kind: Retrying, Name: c.name, Round: round, Err: err})
		if err := workflow.Sleep(ctx, backoff); err != nil {
			return fmt.Errorf("compensation %s: %w", c.name, err)
		}
		backoff = min(2*backoff, s.opts.MaxRetryBackoff)
	}
}

func (s *Saga) notify(e Event) {
	if s.opts.Observer != nil {
		s.opts.Observer(e)
	}
}

// isFinal reports whether a compensation's failure must not be retried: a
// non-retryable application error.
func isFinal(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable()
}
