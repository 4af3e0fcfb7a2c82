package uitest

import (
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/workflows"
)

// sagas runs order sagas on the real dev server, PostgreSQL and FerretDB
// (internal/sagatest): an in-process worker pool on a task queue of its
// own, so that a worker of the stack, which may run older code, never takes
// the test's sagas, over stores of its own, seeded with the demo's SKUs and
// customers, which read better in the screenshots.
type sagas struct {
	t *testing.T
	*sagatest.Env
}

// startSagas starts the workers; dial tunes their client (a data
// converter, say). Everything stops when the test ends.
func startSagas(t *testing.T, dial temporalclient.Options) *sagas {
	t.Helper()
	e := sagatest.Start(t, sagatest.Options{Dial: dial, Seed: sagatest.Seed(
		[]inventory.Stock{{SKU: "SKU-1", UnitPrice: 1250, Quantity: 1000}, {SKU: "SKU-2", UnitPrice: 4000, Quantity: 1000}},
		[]payments.Account{{CustomerID: "alice", Balance: 100_000_000}, {CustomerID: "bob", Balance: 100_000_000}, {CustomerID: "carol", Balance: 2_000}},
	)})
	return &sagas{t: t, Env: e}
}

// placed is an order whose saga ended.
type placed struct {
	in    workflows.OrderInput
	runID string
}

func (p placed) workflowID() string { return workflows.WorkflowID(p.in.OrderID) }

// order describes an order for the test; its id is fresh.
func order(customer, region string, items ...services.Item) workflows.OrderInput {
	return workflows.OrderInput{OrderID: testenv.ID("ui-" + customer), CustomerID: customer, Region: region,
		Items: items, ShipTo: services.Address{Name: "Ada Lovelace", Street: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"}}
}

// place starts the sagas of orders as the starter does (sagaclient.StartOptions:
// search attributes, summary and details), on the test's task queue, and
// waits for each to end as wanted.
func (s *sagas) place(want []string, orders ...workflows.OrderInput) []placed {
	s.t.Helper()
	out := make([]placed, len(orders))
	for i, in := range orders {
		opts, in := sagaclient.StartOptions(in)
		opts.TaskQueue = s.Queue
		run, err := s.Client.ExecuteWorkflow(s.Ctx, opts, workflows.OrderSaga, in)
		if err != nil {
			s.t.Fatalf("start the saga of %s: %v", in.OrderID, err)
		}
		out[i] = placed{in: in, runID: run.GetRunID()}
	}
	for i := range out {
		o, err := sagaclient.Wait(s.Ctx, s.Client, out[i].in.OrderID, out[i].runID)
		if err != nil {
			s.t.Fatal(err)
		}
		if o.Kind != want[i] {
			s.t.Fatalf("order %s ended %s (%s), want %s", o.OrderID, o.Kind, o.Error, want[i])
		}
	}
	return out
}

// listed waits until Temporal's visibility store lists the saga under
// query (it is eventually consistent), so that the UI shows it too.
func (s *sagas) listed(p placed, query string) {
	s.t.Helper()
	q := fmt.Sprintf(`WorkflowId = %q AND %s`, p.workflowID(), query)
	for {
		resp, err := s.Client.ListWorkflow(s.Ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
		if err != nil {
			s.t.Fatalf("list %s: %v", q, err)
		}
		if len(resp.GetExecutions()) > 0 {
			return
		}
		select {
		case <-s.Ctx.Done():
			s.t.Fatalf("saga %s not listed by %s: %v", p.workflowID(), query, s.Ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
