package sagalog_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/sagalog"
	"github.com/sagaflow/sagaflow/workflows"
)

func probeActivity(ctx context.Context) error {
	activity.GetLogger(ctx).Info("activity line")
	return nil
}

func probeWorkflow(ctx workflow.Context) error {
	workflow.GetLogger(ctx).Info("workflow line")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, probeActivity).Get(ctx, nil)
}

// TestInterceptorAlone checks the interceptor without SDK's wrapper: the
// workflow logger gets saga_id and order_id, the activity logger the four
// fields.
func TestInterceptorAlone(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(logging.Temporal(zap.New(core)))
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{sagalog.Interceptor()}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.WorkflowID("o-7")})
	env.RegisterActivity(probeActivity)
	env.ExecuteWorkflow(probeWorkflow)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for msg, want := range map[string][]string{
		"workflow line": {sagalog.FieldSagaID, sagalog.FieldOrderID},
		"activity line": {sagalog.FieldSagaID, sagalog.FieldOrderID, sagalog.FieldStep, sagalog.FieldAttempt},
	} {
		lines := logs.FilterMessage(msg).All()
		if len(lines) != 1 {
			t.Fatalf("%d %q lines", len(lines), msg)
		}
		f := lines[0].ContextMap()
		for _, k := range want {
			if f[k] == nil {
				t.Errorf("%q has no %s: %v", msg, k, f)
			}
		}
		if f[sagalog.FieldSagaID] != "order-o-7" || f[sagalog.FieldOrderID] != "o-7" {
			t.Errorf("%q: saga %v, order %v", msg, f[sagalog.FieldSagaID], f[sagalog.FieldOrderID])
		}
	}
	if f := logs.FilterMessage("activity line").All()[0].ContextMap(); f[sagalog.FieldStep] != "probeActivity" || f[sagalog.FieldAttempt] != int32(1) {
		t.Errorf("activity line: step %v, attempt %v (%T)", f[sagalog.FieldStep], f[sagalog.FieldAttempt], f[sagalog.FieldAttempt])
	}
}
