package saga

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// State is where a registered compensation stands.
type State int

// The states of a compensation.
const (
	// Pending: not started (Compensate has not reached it).
	Pending State = iota
	// Running: in its first round of attempts.
	Running
	// FailingState: its first round failed; the server retries it.
	FailingState
	// Done: it succeeded.
	Done
	// FailedState: it failed for good.
	FailedState
	// ResolvedState: an operator declared it done by hand.
	ResolvedState
)

// String returns the state's name ("pending", "running", "failing", "done",
// "failed", "resolved").
func (s State) String() string {
	return [...]string{"pending", "running", "failing", "done", "failed", "resolved"}[s]
}

// Progress is what Saga.Progress reports of one compensation.
type Progress struct {
	State State
	// Round counts its rounds so far, from 1 (0 while pending).
	Round int
}

type compensation struct {
	name     string
	options  workflow.ActivityOptions
	activity any
	args     []any

	p               *Persistent
	state           State
	resolvedBy, why string
}

// run executes one compensation until it succeeds, fails for good, or an
// operator resolves it; only a failure for good is returned.
func (s *Saga) run(ctx workflow.Context, c *compensation) error {
	c.state = Running
	c.p = &Persistent{
		Name: c.name, Options: c.options, Backoff: s.opts.RetryBackoff, MaxBackoff: s.opts.MaxRetryBackoff,
		legacyRounds: true,
		OnRound: func(round int) {
			s.notify(Event{Kind: Started, Name: c.name, Round: round})
		},
		OnFailing: func(round int, err error) {
			s.notify(Event{Kind: Retrying, Name: c.name, Round: round, Err: err})
		},
	}
	fut, err := c.p.Run(ctx, c.activity, c.args...)
	round := c.p.Round()
	switch {
	case err == nil:
		c.state = Done
		s.notify(Event{Kind: Compensated, Name: c.name, Round: round, Result: func(v any) error { return fut.Get(ctx, v) }})
		return nil
	case errors.Is(err, errAbandoned):
		c.state = ResolvedState
		s.notify(Event{Kind: Resolved, Name: c.name, Round: round, By: c.resolvedBy, Reason: c.why})
		return nil
	}
	c.state = FailedState
	s.notify(Event{Kind: Failed, Name: c.name, Round: round, Err: err})
	return err
}

func (s *Saga) find(name string) (*compensation, error) {
	for _, c := range s.stack {
		if c.name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no compensation %q is registered: %v", name, s.Names())
}

// Progress reports where the named compensation stands.
func (s *Saga) Progress(name string) (Progress, error) {
	c, err := s.find(name)
	if err != nil {
		return Progress{}, err
	}
	st := c.state
	if st == Running && c.p.Failing() {
		st = FailingState
	}
	var round int
	if c.p != nil {
		round = c.p.Round()
	}
	return Progress{State: st, Round: round}, nil
}

// Failing lists the compensations that are failing: their first round
// failed and the server retries them.
func (s *Saga) Failing() []string {
	var out []string
	for _, c := range s.stack {
		if c.p != nil && c.p.Failing() {
			out = append(out, c.name)
		}
	}
	return out
}

// RetryNow runs the named failing compensation again at once, skipping
// what is left of its backoff. It returns an error wrapping ErrNotFailing
// when the compensation is not failing.
func (s *Saga) RetryNow(name string) error {
	c, err := s.find(name)
	if err != nil {
		return err
	}
	if c.p == nil {
		return fmt.Errorf("compensation %s: %w", name, ErrNotFailing)
	}
	if err := c.p.RetryNow(); err != nil {
		return fmt.Errorf("compensation %s: %w", name, err)
	}
	return nil
}

// Resolve declares the named failing compensation done by hand, by whom and
// why: its activity is cancelled (after a running attempt ends), the
// Observer gets a Resolved event, and Compensate goes on with the others.
// An attempt that succeeds before the cancellation takes effect makes it
// Compensated instead. It returns an error wrapping ErrNotFailing when the
// compensation is not failing.
func (s *Saga) Resolve(name, by, reason string) error {
	c, err := s.find(name)
	if err != nil {
		return err
	}
	if c.p == nil {
		return fmt.Errorf("compensation %s: %w", name, ErrNotFailing)
	}
	if err := c.p.ask(actionAbandon); err != nil {
		return fmt.Errorf("compensation %s: %w", name, err)
	}
	c.resolvedBy, c.why = by, reason
	return nil
}
