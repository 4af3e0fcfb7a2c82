package summarytest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
	"github.com/sagaflow/sagaflow/saga/summarytest"
)

func BookRoom(context.Context, string) error   { return nil }
func CancelRoom(context.Context, string) error { return nil }
func ChargeCard(context.Context, string) error {
	return temporal.NewNonRetryableApplicationError("card declined", "Declined", nil)
}
func RefundCard(context.Context, string) error { return nil }

// Booking's compensations carry the labels an operator reads in the Web UI.
func Booking(ctx workflow.Context, id string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, Summary: "book " + id})
	s := saga.New(ctx, saga.Options{})
	if err := s.AddWithOptions("CancelRoom", saga.CompensationOptions{Summary: "cancel room of " + id}, CancelRoom, id); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, BookRoom, id).Get(ctx, nil); err != nil {
		return s.Abort(err)
	}
	if err := s.AddWithOptions("RefundCard", saga.CompensationOptions{Summary: "refund " + id}, RefundCard, id); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, ChargeCard, id).Get(ctx, nil); err != nil {
		return s.Abort(err)
	}
	return nil
}

// A test checks the label of every activity the saga schedules, its
// compensations' included.
func ExampleRecorder() {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	rec := &summarytest.Recorder{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
	env.RegisterWorkflow(Booking)
	for _, a := range []any{BookRoom, CancelRoom, ChargeCard, RefundCard} {
		env.RegisterActivity(a)
	}
	env.ExecuteWorkflow(Booking, "b-1")
	fmt.Println("workflow failed:", env.GetWorkflowError() != nil)
	for _, s := range rec.Scheduled() {
		fmt.Println(s)
	}
	fmt.Printf("RefundCard: %q\n", rec.Summary("RefundCard"))
	// Output:
	// workflow failed: true
	// BookRoom:book b-1
	// ChargeCard:book b-1
	// RefundCard:refund b-1
	// CancelRoom:cancel room of b-1
	// RefundCard: "refund b-1"
}
