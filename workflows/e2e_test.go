package workflows_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/workflows"
)

// recordEnv names the variable that, set to a folder, makes the end-to-end
// test write the histories the replay test reads (testdata/).
const recordEnv = "SAGAFLOW_RECORD_HISTORIES"

// e2e is a worker on a task queue of its own, over stores of its own, on
// the real Temporal dev server, PostgreSQL and FerretDB (internal/sagatest),
// seeded with E-1, of plenty of stock, and E-SCARCE, of 5; rich can pay for
// anything and poor for nothing.
type e2e struct {
	t *testing.T
	*sagatest.Env
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	e := sagatest.Start(t, sagatest.Options{
		Seed: sagatest.Seed(
			[]inventory.Stock{{SKU: "E-1", UnitPrice: 1000, Quantity: 10_000}, {SKU: "E-SCARCE", UnitPrice: 500, Quantity: 5}},
			[]payments.Account{{CustomerID: "rich", Balance: 1_000_000_000}, {CustomerID: "poor", Balance: 100}}),
		Concurrency: 32,
		Timeout:     5 * time.Minute,
	})
	return &e2e{t: t, Env: e}
}

// outcomeOf waits for a saga and returns its final state and how it ended.
func (e *e2e) outcomeOf(run client.WorkflowRun) (workflows.SagaState, string) {
	var state workflows.SagaState
	err := run.Get(e.Ctx, &state)
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case err == nil:
		return state, "completed"
	case errors.As(err, &canceled):
		_ = canceled.Details(&state)
		return state, "canceled"
	case errors.As(err, &appErr):
		_ = appErr.Details(&state)
		return state, appErr.Type()
	}
	e.t.Errorf("saga %s: %v", run.GetID(), err)
	return state, "error"
}

// waitForStep polls the state query until step is done.
func (e *e2e) waitForStep(run client.WorkflowRun, step string) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		v, err := e.Client.QueryWorkflow(e.Ctx, run.GetID(), run.GetRunID(), workflows.QueryState)
		if err == nil {
			var s workflows.SagaState
			if err := v.Get(&s); err == nil && s.Step(step).Status == workflows.StepDone {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%s never finished %s", run.GetID(), step)
}

func e2eOrder(id, customer string, items ...services.Item) workflows.OrderInput {
	return workflows.OrderInput{
		OrderID: id, CustomerID: customer, Region: workflows.Regions[len(id)%len(workflows.Regions)], Items: items,
		ShipTo: services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
	}
}

// TestFiftyOrdersEndToEnd places 50 orders: about a third fail at
// different steps, two are cancelled mid-flight. All must end, the stores
// must agree with every outcome, and a second start must not run a second saga.
func TestFiftyOrdersEndToEnd(t *testing.T) {
	e := startE2E(t)
	prefix := testenv.ID("e2e")
	one := services.Item{SKU: "E-1", Quantity: 1}
	type planned struct {
		in   workflows.OrderInput
		want string // "completed", an error type, or "canceled"
		step string // the failed step, when not completed
	}
	var plan []planned
	failures := []func(id string) planned{
		func(id string) planned { // out of stock, by business rule
			return planned{e2eOrder(id, "rich", services.Item{SKU: "E-SCARCE", Quantity: 6}), workflows.ErrTypeCompensated, workflows.StepReserveStock}
		},
		func(id string) planned { // insufficient funds
			return planned{e2eOrder(id, "poor", one), workflows.ErrTypeCompensated, workflows.StepChargePayment}
		},
		func(id string) planned { // unsupported destination
			in := e2eOrder(id, "rich", one)
			in.ShipTo.Country = "AQ"
			return planned{in, workflows.ErrTypeCompensated, workflows.StepCreateShipment}
		},
		func(id string) planned { // unknown SKU: rejected before any side effect
			return planned{e2eOrder(id, "rich", services.Item{SKU: "E-NONE", Quantity: 1}), workflows.ErrTypeRejected, workflows.StepPriceOrder}
		},
		func(id string) planned { // forced failure at the first step
			in := e2eOrder(id, "rich", one)
			in.Demo.FailAt = workflows.StepCreateOrder
			return planned{in, workflows.ErrTypeCompensated, workflows.StepCreateOrder}
		},
		func(id string) planned { // forced failure at the pivot
			in := e2eOrder(id, "rich", one)
			in.Demo.FailAt = workflows.StepConfirmOrder
			return planned{in, workflows.ErrTypeCompensated, workflows.StepConfirmOrder}
		},
	}
	for i := range 48 {
		id := fmt.Sprintf("%s-%02d", prefix, i)
		if i%3 == 0 {
			plan = append(plan, failures[(i/3)%len(failures)](id))
			continue
		}
		plan = append(plan, planned{e2eOrder(id, "rich", one, services.Item{SKU: "E-1", Quantity: int64(1 + i%4)}), "completed", ""})
	}
	for i := range 2 { // cancelled while paused before the shipment
		in := e2eOrder(fmt.Sprintf("%s-cancel-%d", prefix, i), "rich", one)
		in.Demo = workflows.Demo{PauseBefore: workflows.StepCreateShipment, Pause: time.Hour}
		plan = append(plan, planned{in, "canceled", workflows.StepCreateShipment})
	}

	runs := make([]client.WorkflowRun, len(plan))
	for i, p := range plan {
		runs[i] = e.StartSaga(p.in)
	}
	for i, p := range plan {
		if p.want == "canceled" {
			e.waitForStep(runs[i], workflows.StepChargePayment)
			if err := e.Client.CancelWorkflow(e.Ctx, runs[i].GetID(), runs[i].GetRunID()); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	states := make([]workflows.SagaState, len(plan))
	ends := make([]string, len(plan))
	for i := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			states[i], ends[i] = e.outcomeOf(runs[i])
		}()
	}
	wg.Wait()

	completed := 0
	for i, p := range plan {
		s := states[i]
		if ends[i] != p.want || (p.step != "" && s.FailedStep != p.step) {
			t.Errorf("%s: ended %s at %q (%s), want %s at %q", p.in.OrderID, ends[i], s.FailedStep, s.Error, p.want, p.step)
		}
		switch p.want {
		case "completed":
			completed++
			if s.Status != workflows.StatusCompleted || s.Tracking == "" {
				t.Errorf("%s: state %+v", p.in.OrderID, s)
			}
		case workflows.ErrTypeRejected:
			if s.Status != workflows.StatusRejected {
				t.Errorf("%s: status %s", p.in.OrderID, s.Status)
			}
		default:
			if s.Status != workflows.StatusCompensated {
				t.Errorf("%s: status %s", p.in.OrderID, s.Status)
			}
		}
	}

	// A second start of a finished order returns the existing saga and
	// runs no second one.
	again := e.StartSaga(plan[1].in)
	if again.GetRunID() != runs[1].GetRunID() {
		t.Fatalf("second start ran %s, want the existing run %s", again.GetRunID(), runs[1].GetRunID())
	}
	if state, end := e.outcomeOf(again); end != "completed" || state.Status != workflows.StatusCompleted {
		t.Fatalf("second start: %s %+v", end, state)
	}
	desc, err := e.Client.DescribeWorkflowExecution(e.Ctx, runs[1].GetID(), "")
	if err != nil || desc.WorkflowExecutionInfo.Execution.RunId != runs[1].GetRunID() {
		t.Fatalf("latest run of %s: %v, %v", runs[1].GetID(), desc, err)
	}

	// Started with its search attributes, a completed saga sets only its
	// final status: one upsert of its own; the SDK adds one with the
	// version the saga records as it starts (TemporalChangeVersion).
	upserts, versions := 0, 0
	for _, ev := range e.history(runs[1]).Events {
		if ev.GetEventType() != enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			continue
		}
		fields := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
		if v, ok := fields["TemporalChangeVersion"]; ok && len(fields) == 1 {
			if !strings.Contains(string(v.GetData()), "order-saga-") {
				t.Errorf("%s: TemporalChangeVersion %s, want the order-saga version", runs[1].GetID(), v.GetData())
			}
			versions++
			continue
		}
		upserts++
	}
	if upserts != 1 || versions != 1 {
		t.Errorf("%s: %d search-attribute upserts and %d of the version, want 1 (SagaStatus=COMPLETED) and 1", runs[1].GetID(), upserts, versions)
	}

	report, err := invariants.Check(e.Ctx, e.Stores, invariants.Options{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.Breaches() != 0 || report.Confirmed != completed {
		t.Fatalf("verify:\n%s", report)
	}
	t.Logf("%d completed, %d compensated or rejected\n%s", completed, len(plan)-completed, report)

	if dir := os.Getenv(recordEnv); dir != "" {
		e.record(dir, "success.json", runs[1])
		e.record(dir, "compensation.json", runs[0])
		e.record(dir, "cancellation.json", runs[len(runs)-1])
	}
}

// history returns a saga's history.
func (e *e2e) history(run client.WorkflowRun) *historypb.History {
	e.t.Helper()
	it := e.Client.GetWorkflowHistory(e.Ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			e.t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return &h
}

// record writes a saga's history as the JSON the replayer reads.
func (e *e2e) record(dir, name string, run client.WorkflowRun) {
	e.t.Helper()
	body, err := protojson.MarshalOptions{Indent: "  "}.Marshal(e.history(run))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
		e.t.Fatal(err)
	}
}
