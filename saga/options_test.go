package saga_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
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

func undoA(context.Context) error { return nil }
func undoB(context.Context) error { return nil }
func undoC(context.Context) error { return nil }

// summarisedWorkflow registers three compensations: one without options,
// two with a summary of their own, under a saga-wide summary.
func summarisedWorkflow(ctx workflow.Context, parallel bool) error {
	s := saga.New(ctx, saga.Options{
		Parallel: parallel,
		ActivityOptions: workflow.ActivityOptions{
			StartToCloseTimeout: time.Second,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
			Summary:             "compensate",
		},
	})
	s.Add("a", undoA)
	s.AddWithOptions("b", saga.CompensationOptions{Summary: "undo b"}, undoB)
	s.AddWithOptions("c", saga.CompensationOptions{Summary: "undo c"}, undoC)
	return s.Compensate()
}

func TestAddWithOptionsSetsTheActivitySummary(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		var suite testsuite.WorkflowTestSuite
		suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		env := suite.NewTestWorkflowEnvironment()
		rec := &summarytest.Recorder{}
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
		env.RegisterWorkflow(summarisedWorkflow)
		env.RegisterActivity(undoA)
		env.RegisterActivity(undoB)
		env.RegisterActivity(undoC)
		env.ExecuteWorkflow(summarisedWorkflow, parallel)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatalf("parallel=%v: %v", parallel, err)
		}
		want := []string{"undoC:undo c", "undoB:undo b", "undoA:compensate"}
		got := rec.Scheduled()
		if parallel {
			slices.Sort(got)
			want = []string{"undoA:compensate", "undoB:undo b", "undoC:undo c"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("parallel=%v: scheduled %v, want %v", parallel, got, want)
		}
	}
}
