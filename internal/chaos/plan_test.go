package chaos_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/workflows"
)

func options() chaos.Options {
	return chaos.Options{Orders: 200, Concurrency: 8, Workers: 3, Seed: 42, FailShare: 0.3,
		Kills: 10, Terms: 2, PostgresOutages: 1, MongoOutages: 1, TemporalRestarts: 1,
		Outage: 2 * time.Second, Ambiguous: 0.1, Settle: time.Minute}
}

func TestSameSeedSamePlan(t *testing.T) {
	a, b := chaos.NewPlan(options(), "r"), chaos.NewPlan(options(), "r")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans from one seed differ")
	}
	o := options()
	o.Seed = 43
	if reflect.DeepEqual(a.Faults, chaos.NewPlan(o, "r").Faults) {
		t.Fatal("another seed gave the same faults")
	}
}

func TestPlanHasEveryFaultWithinTheRunAndValidOrders(t *testing.T) {
	o := options()
	p := chaos.NewPlan(o, "r")
	counts := map[chaos.FaultKind]int{}
	last := 0
	for _, f := range p.Faults {
		counts[f.Kind]++
		if f.AfterOrders < last || f.AfterOrders < o.Orders/20 || f.AfterOrders >= o.Orders {
			t.Errorf("fault %+v out of order or outside the run", f)
		}
		last = f.AfterOrders
		if (f.Kind == chaos.FaultKill || f.Kind == chaos.FaultTerm) && (f.Worker < 0 || f.Worker >= o.Workers) {
			t.Errorf("fault %+v hits no worker", f)
		}
	}
	want := map[chaos.FaultKind]int{chaos.FaultKill: 10, chaos.FaultTerm: 2, chaos.FaultPostgres: 1, chaos.FaultMongo: 1, chaos.FaultTemporalRestart: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("faults %v, want %v", counts, want)
	}
	failing := 0
	for _, in := range p.Orders {
		if _, err := workflows.Validate(in); err != nil {
			t.Fatalf("order %s invalid: %v", in.OrderID, err)
		}
		if in.CustomerID == "chaos-poor" || in.ShipTo.Country == "AQ" || in.Demo.FailAt != "" || len(in.Items) > 0 && in.Items[len(in.Items)-1].SKU == "chaos-no-such-sku" {
			failing++
		}
	}
	if failing < o.Orders/5 || failing > o.Orders*2/5 {
		t.Fatalf("%d of %d orders shaped to fail, want about 30%%", failing, o.Orders)
	}
}
