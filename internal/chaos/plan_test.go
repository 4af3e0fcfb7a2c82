package chaos_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/workflows"
)

func options() chaos.Options {
	return chaos.Options{Orders: 200, Concurrency: 8, Workers: 3, Seed: 42, FailShare: 0.3,
		Kills: 10, Terms: 2, PostgresOutages: 1, MongoOutages: 1, TemporalRestarts: 1, ProjectorKills: 3, ProjectorPauses: 2, Partitions: 9, ProjectorPartitions: 1,
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
	servers := map[string]bool{}
	last := 0
	for _, f := range p.Faults {
		counts[f.Kind]++
		if f.AfterOrders < last || f.AfterOrders < o.Orders/20 || f.AfterOrders >= o.Orders {
			t.Errorf("fault %+v out of order or outside the run", f)
		}
		last = f.AfterOrders
		if (f.Kind == chaos.FaultKill || f.Kind == chaos.FaultTerm || f.Kind == chaos.FaultPartition) && (f.Worker < 0 || f.Worker >= o.Workers) {
			t.Errorf("fault %+v hits no worker", f)
		}
		// A partition cuts a worker off from one of the three servers for
		// 4 to 14 s; the leader's, from PostgreSQL past its lease.
		if f.Kind == chaos.FaultPartition && (!slices.Contains(chaos.PartitionServers, f.Server) || f.Down < 4*time.Second || f.Down >= 14*time.Second) ||
			f.Kind == chaos.FaultProjectorPartition && (f.Server != chaos.ServerPostgres || f.Down != 8*time.Second) {
			t.Errorf("partition %+v", f)
		}
		if f.Kind == chaos.FaultPartition {
			servers[f.Server] = true
		}
		// A killed leader is restarted like a killed worker; a paused one
		// stays stopped past its lease (5 s) by 3 s.
		if f.Kind == chaos.FaultProjectorKill && (f.Down < 200*time.Millisecond || f.Down >= 2*time.Second) ||
			f.Kind == chaos.FaultProjectorPause && f.Down != 8*time.Second {
			t.Errorf("fault %+v: down for %s", f, f.Down)
		}
	}
	want := map[chaos.FaultKind]int{chaos.FaultKill: 10, chaos.FaultTerm: 2, chaos.FaultPostgres: 1, chaos.FaultMongo: 1, chaos.FaultTemporalRestart: 1,
		chaos.FaultProjectorKill: 3, chaos.FaultProjectorPause: 2, chaos.FaultPartition: 9, chaos.FaultProjectorPartition: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("faults %v, want %v", counts, want)
	}
	if len(servers) != len(chaos.PartitionServers) {
		t.Fatalf("9 partitions cut workers off from %v only, want each server in turn", servers)
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

// The projector leader faults and the partitions are drawn after the
// others: a seed's runs without them keep their faults when they are added.
func TestLeaderFaultsKeepTheSeedsOtherFaults(t *testing.T) {
	o := options()
	with := chaos.NewPlan(o, "r")
	o.ProjectorKills, o.ProjectorPauses, o.Partitions, o.ProjectorPartitions = 0, 0, 0, 0
	without := chaos.NewPlan(o, "r")
	var others []chaos.Fault
	for _, f := range with.Faults {
		if f.Kind != chaos.FaultProjectorKill && f.Kind != chaos.FaultProjectorPause && f.Kind != chaos.FaultPartition && f.Kind != chaos.FaultProjectorPartition {
			others = append(others, f)
		}
	}
	if !reflect.DeepEqual(others, without.Faults) || !reflect.DeepEqual(with.Orders, without.Orders) {
		t.Fatalf("the leader faults changed the other faults:\n%+v\n%+v", others, without.Faults)
	}
	if len(with.Faults) != len(without.Faults)+15 {
		t.Fatalf("%d faults with the leader faults, %d without", len(with.Faults), len(without.Faults))
	}
}

func TestHolderPID(t *testing.T) {
	for _, c := range []struct {
		holder, host string
		pid          int
		ok           bool
	}{
		{"box-4242-a1b2c3", "box", 4242, true},
		{"ci-runner-7-4242-a1b2c3", "ci-runner-7", 4242, true}, // dashes in the host name
		{"other-4242-a1b2c3", "box", 0, false},                 // another machine
		{"box-4242", "box", 0, false},
		{"box-x-a1b2c3", "box", 0, false},
		{"box-0-a1b2c3", "box", 0, false},
		{"box-1-2-3", "box", 0, false},
		{"", "box", 0, false},
	} {
		pid, ok := chaos.HolderPID(c.holder, c.host)
		if pid != c.pid || ok != c.ok {
			t.Errorf("HolderPID(%q, %q) = %d, %v; want %d, %v", c.holder, c.host, pid, ok, c.pid, c.ok)
		}
	}
}
