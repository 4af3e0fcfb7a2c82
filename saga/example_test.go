package saga_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// Trip books a flight, a hotel and a car. The car rental fails, so the
// hotel and the flight are cancelled, in reverse order.
func Trip(ctx workflow.Context, who string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	s := saga.New(ctx, saga.Options{})
	steps := []struct {
		do, undo func(context.Context, string) error
		undoName string
	}{
		{BookFlight, CancelFlight, "CancelFlight"},
		{BookHotel, CancelHotel, "CancelHotel"},
		{RentCar, ReturnCar, "ReturnCar"},
	}
	for _, step := range steps {
		// Register the compensation before the step: it may time out yet happen.
		if err := s.Add(step.undoName, step.undo, who); err != nil {
			return err
		}
		if err := workflow.ExecuteActivity(ctx, step.do, who).Get(ctx, nil); err != nil {
			// Compensate, then fail with the step's own error: its type
			// and non-retryable flag reach the caller.
			return s.Abort(err)
		}
	}
	return nil
}

func BookFlight(_ context.Context, who string) error {
	fmt.Println("flight booked for", who)
	return nil
}
func BookHotel(_ context.Context, who string) error { fmt.Println("hotel booked for", who); return nil }
func RentCar(context.Context, string) error {
	return temporal.NewNonRetryableApplicationError("no cars left", "SOLD_OUT", nil)
}
func CancelFlight(_ context.Context, who string) error {
	fmt.Println("flight cancelled for", who)
	return nil
}
func CancelHotel(_ context.Context, who string) error {
	fmt.Println("hotel cancelled for", who)
	return nil
}

// ReturnCar compensates a rental that never happened: a no-op, as every
// compensation of a step that did not take effect must be.
func ReturnCar(context.Context, string) error { fmt.Println("no car to return"); return nil }

func Example() {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkflowRunTimeout(time.Hour) // a trip that retried without end would fail
	env.RegisterWorkflow(Trip)
	for _, a := range []any{BookFlight, BookHotel, RentCar, CancelFlight, CancelHotel, ReturnCar} {
		env.RegisterActivity(a)
	}
	env.ExecuteWorkflow(Trip, "Ada")
	var appErr *temporal.ApplicationError
	if errors.As(env.GetWorkflowError(), &appErr) {
		fmt.Println("trip failed:", appErr.Type(), "non-retryable:", appErr.NonRetryable())
	}
	// Output:
	// flight booked for Ada
	// hotel booked for Ada
	// no car to return
	// hotel cancelled for Ada
	// flight cancelled for Ada
	// trip failed: SOLD_OUT non-retryable: true
}
