package saga

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// CompensationFailedType is the type of the application error Abort returns
// when a compensation failed for good.
const CompensationFailedType = "CompensationFailed"

// CompensationFailure is one compensation that failed for good.
type CompensationFailure struct {
	// Name is the name the compensation was registered with.
	Name string
	// Err is its last failure, as the workflow saw it.
	Err error
}

// CompensationError is Compensate's error: the compensations that failed for
// good, in the order they ran. Read it with errors.As.
type CompensationError struct {
	Failures []CompensationFailure
}

// Error lists each failed compensation with its error.
func (e *CompensationError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = fmt.Sprintf("%s: %v", f.Name, f.Err)
	}
	return "compensation failed: " + strings.Join(parts, "; ")
}

// Unwrap returns the failures' errors, for errors.Is and errors.As.
func (e *CompensationError) Unwrap() []error {
	errs := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		errs[i] = f.Err
	}
	return errs
}

// Names lists the failed compensations.
func (e *CompensationError) Names() []string {
	names := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		names[i] = f.Name
	}
	return names
}

// Abort compensates and returns the error to end the workflow with, after
// a step failed with cause:
//
//	if err := workflow.ExecuteActivity(ctx, a.Book, in).Get(ctx, nil); err != nil {
//		return s.Abort(err)
//	}
//
// When every compensation succeeded it returns cause itself, so the
// workflow's caller sees the step's error type and non-retryable flag
// (errors.Join would hide both behind a retryable error of another type).
// When one failed for good it returns a non-retryable application error of
// type CompensationFailedType whose cause is cause and whose details are
// the failed compensations' names.
func (s *Saga) Abort(cause error) error {
	err := s.Compensate()
	if err == nil {
		return cause
	}
	var cerr *CompensationError
	if !errors.As(err, &cerr) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%v; %v", cause, cerr), CompensationFailedType,
		temporal.ApplicationErrorOptions{NonRetryable: true, Cause: cause, Details: []any{cerr.Names()}})
}
