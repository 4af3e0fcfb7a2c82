package workflows_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sagaflow/sagaflow/internal/historycount"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestHistoryCountBoundsTheServer runs, on the real dev server with the real
// stores, a saga whose RefundPayment fails until an operator resolves it,
// and checks two things the 30-day tests rely on: while the server retries
// the compensation its history does not grow, and historycount's count is an
// upper bound of the real history, and a close one.
func TestHistoryCountBoundsTheServer(t *testing.T) {
	counter := &historycount.Counter{}
	e := sagatest.Start(t, sagatest.Options{Interceptors: []interceptor.WorkerInterceptor{counter}})
	in := sagatest.Order(sagatest.Rich, 1)
	in.Demo.FailAt = workflows.StepConfirmOrder
	in.Demo.FailCompensation = workflows.StepChargePayment
	run := e.StartSaga(in)
	id := run.GetID()

	waitFor(t, e.Ctx, "SagaStatus COMPENSATION_FAILING", func() bool {
		v, err := e.Client.QueryWorkflow(e.Ctx, id, "", workflows.QueryState)
		var s workflows.SagaState
		return err == nil && v.Get(&s) == nil && s.Status == workflows.StatusCompensationFailing
	})
	failing := historyLength(t, e, id)
	waitFor(t, e.Ctx, "three attempts of the server's retries of RefundPayment", func() bool {
		d, err := e.Client.DescribeWorkflowExecution(e.Ctx, id, "")
		if err != nil {
			return false
		}
		for _, p := range d.GetPendingActivities() {
			if p.GetActivityType().GetName() == "RefundPayment" && p.GetAttempt() >= 3 && p.GetLastFailure() != nil {
				return true
			}
		}
		return false
	})
	if later := historyLength(t, e, id); later != failing {
		t.Errorf("the history grew from %d to %d events while the server retried RefundPayment", failing, later)
	}

	handle, err := e.Client.UpdateWorkflow(e.Ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: workflows.UpdateResolve, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.ResolveRequest{Step: "RefundPayment", Operator: "test", Reason: "refunded by hand"}},
	})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	var res workflows.ActionResult
	if err := handle.Get(e.Ctx, &res); err != nil || res.Outcome != workflows.ActionResolved {
		t.Fatalf("resolve: %+v, %v", res, err)
	}
	var appErr *temporal.ApplicationError
	if err := run.Get(e.Ctx, nil); !errors.As(err, &appErr) || appErr.Type() != workflows.ErrTypeCompensated {
		t.Fatalf("saga ended with %v, want %s", err, workflows.ErrTypeCompensated)
	}

	if dir := os.Getenv(recordEnv); dir != "" {
		recordHistory(t, e, id, filepath.Join(dir, "v3-compensation-resolved.json"))
	}
	real, counted := historyLength(t, e, id), counter.Events(id)
	t.Logf("history: %d events on the server, %d counted", real, counted)
	if counted < real || counted > real+15 {
		t.Errorf("counted %d events for a history of %d: want an upper bound within 15", counted, real)
	}
}

// historyLength counts the events of the workflow's history on the server.
func historyLength(t *testing.T, e *sagatest.Env, id string) int {
	t.Helper()
	it := e.Client.GetWorkflowHistory(e.Ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		n++
	}
	return n
}

// recordHistory writes the workflow's history as the JSON the replayer reads.
func recordHistory(t *testing.T, e *sagatest.Env, id, file string) {
	t.Helper()
	var h historypb.History
	it := e.Client.GetWorkflowHistory(e.Ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		h.Events = append(h.Events, ev)
	}
	body, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 200ms until it holds, failing the test after a
// minute.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
