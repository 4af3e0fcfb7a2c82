package chaos_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

func order(id string) workflows.OrderInput {
	return workflows.OrderInput{OrderID: id, CustomerID: chaos.Customer(1), Region: "eu",
		Items:  []services.Item{{SKU: chaos.SKU(1), Quantity: 1}},
		ShipTo: services.Address{Name: "A", Street: "B", City: "C", PostalCode: "1", Country: "DE"}}
}

func TestVerdictCatchesADuplicatedEffect(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{Seed: chaos.Seed, Timeout: time.Minute})
	id := testenv.ID("dup")
	run := e.StartSaga(order(id))
	if out, err := sagaclient.Wait(e.Ctx, e.Client, id, ""); err != nil || out.Kind != sagaclient.Completed {
		t.Fatalf("saga: %+v, %v", out, err)
	}
	clean, err := chaos.Judge(e.Ctx, e.Client, e.Config.TemporalNamespace, e.Stores, []string{id}, 30*time.Second)
	if err != nil || clean.Breaches() != 0 || clean.Replayed != 1 {
		t.Fatalf("clean run: %+v, %v", clean, err)
	}
	// The charge applied a second time, as if the barrier had let a retry through.
	if _, err := e.PaymentsPool.Exec(e.Ctx, `UPDATE accounts SET balance = balance - 100 WHERE customer_id = '`+chaos.Customer(1)+`';
		INSERT INTO events (saga_id, order_id, kind, detail) VALUES ('`+workflows.SagaID(run.GetID(), run.GetRunID())+`', '`+id+`', 'PaymentCaptured', '{}')`); err != nil {
		t.Fatal(err)
	}
	v, err := chaos.Judge(e.Ctx, e.Client, e.Config.TemporalNamespace, e.Stores, []string{id}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Invariants.DuplicateEffects) != 1 || v.Breaches() == 0 {
		t.Fatalf("verdict missed the duplicate: %+v", v)
	}
}

func TestVerdictCatchesAnAbandonedSaga(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{Seed: chaos.Seed, NoWorker: true, Timeout: time.Minute})
	id := testenv.ID("abandoned")
	e.StartSaga(order(id)) // no worker polls this queue: the saga never ends
	t.Cleanup(func() {
		_ = e.Client.TerminateWorkflow(context.Background(), workflows.WorkflowID(id), "", "test over")
	})
	v, err := chaos.Judge(e.Ctx, e.Client, e.Config.TemporalNamespace, e.Stores, []string{id}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.NotTerminal, []string{id}) || v.Lost() != 1 || v.Breaches() == 0 {
		t.Fatalf("verdict missed the abandoned saga: %+v", v)
	}
}

// A saga of another run that still runs, waiting on an operator with its
// order half-undone, is in flight: not a breach of this run.
func TestVerdictLeavesAnotherRunsSagaInFlight(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{Seed: chaos.Seed, Timeout: 2 * time.Minute})
	in := order(testenv.ID("waiting"))
	in.Demo.FailAt, in.Demo.FailCompensation = workflows.StepConfirmOrder, workflows.StepChargePayment
	run := e.StartSaga(in)
	t.Cleanup(func() { _ = e.Client.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") })
	for {
		v, err := e.Client.QueryWorkflow(e.Ctx, run.GetID(), "", workflows.QueryState)
		var s workflows.SagaState
		if err == nil && v.Get(&s) == nil && s.Status == workflows.StatusCompensationFailing {
			break
		}
		if e.Ctx.Err() != nil {
			t.Fatal("the saga never became COMPENSATION_FAILING")
		}
		time.Sleep(200 * time.Millisecond)
	}
	other, err := chaos.Judge(e.Ctx, e.Client, e.Config.TemporalNamespace, e.Stores, nil, 30*time.Second)
	if err != nil || other.Breaches() != 0 || other.Invariants.InFlight != 1 {
		t.Fatalf("judged as another run's saga: %+v, %v", other, err)
	}
	own, err := chaos.Judge(e.Ctx, e.Client, e.Config.TemporalNamespace, e.Stores, []string{in.OrderID}, 30*time.Second)
	if err != nil || !slices.Equal(own.NotTerminal, []string{in.OrderID}) || own.Invariants.Breaches() == 0 {
		t.Fatalf("judged as the run's own saga: %+v, %v", own, err)
	}
}

// The read side's breaches count, each alone: drift, a fenced leader's
// writes, failovers over FailoverBound and write transactions open over
// WriteTxBound (at the bound is within it).
func TestVerdictCountsTheReadSidesBreaches(t *testing.T) {
	within := chaos.Verdict{}
	within.JudgeBounds(
		[]chaos.Failover{{Took: 5 * time.Second, NewEpoch: 2}, {Took: chaos.FailoverBound, NewEpoch: 3}},
		[]chaos.WriteTx{{Database: "inventory", Open: 2 * time.Second}, {Database: "payments", Open: chaos.WriteTxBound}})
	if within.Breaches() != 0 {
		t.Fatalf("breaches within the bounds: %+v", within)
	}
	if chaos.WriteTxBound != 15*time.Second {
		t.Fatalf("WriteTxBound %s, want pgstore.SessionBound (10s) + 5s", chaos.WriteTxBound)
	}
	bounded := chaos.Verdict{}
	bounded.JudgeBounds(
		[]chaos.Failover{{Took: chaos.FailoverBound + time.Millisecond, NewEpoch: 4}, {Took: 30 * time.Second}, {Took: time.Second, NewEpoch: 6}},
		[]chaos.WriteTx{{Database: "inventory", PID: 7, Open: chaos.WriteTxBound + time.Second}, {Database: "payments", Open: time.Second}})
	if len(bounded.SlowFailovers) != 2 || len(bounded.LongWriteTransactions) != 1 || bounded.LongWriteTransactions[0].PID != 7 {
		t.Fatalf("judged %+v", bounded)
	}
	for _, c := range []struct {
		name string
		v    chaos.Verdict
		want int
	}{
		{"read store drift", chaos.Verdict{ReadStoreDrift: []string{"order a: status PENDING, write stores say CONFIRMED", "SKU b: counters"}}, 2},
		{"writes by a fenced leader", chaos.Verdict{FencedWrites: 3}, 3},
		{"slow failovers and long write transactions", bounded, 3},
	} {
		if got := c.v.Breaches(); got != c.want {
			t.Errorf("%s: %d breaches, want %d", c.name, got, c.want)
		}
	}
}
