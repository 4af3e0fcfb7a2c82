// Package chaos is the fault-injection runner behind `make chaos`: it drives
// orders through worker processes it kills, takes the databases and the
// Temporal server away while sagas are in flight, lets the workers' fault
// layer lose acknowledgements, and then judges the run: no order lost, no
// effect twice, no stock or money appeared or vanished, every history
// replays.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Options describe a run.
type Options struct {
	Orders      int
	Concurrency int
	Workers     int
	Seed        uint64
	// FailShare is the share of orders shaped to fail by a business rule or
	// a forced failure.
	FailShare float64

	Kills            int // SIGKILLs of a random worker, restarted after a delay
	Terms            int // SIGTERMs (graceful stops) of a random worker, restarted
	PostgresOutages  int
	MongoOutages     int
	TemporalRestarts int
	// ProjectorKills and ProjectorPauses are SIGKILLs and SIGSTOPs (held
	// past the lease, then SIGCONT) of the worker whose projector holds the
	// read store's lease.
	ProjectorKills  int
	ProjectorPauses int
	// Partitions cut a random worker off from a server (PostgreSQL,
	// FerretDB and Temporal in turn) for a while, dropping what passes (see
	// Partitions); ProjectorPartitions cut the worker whose projector
	// holds the lease off from PostgreSQL, past the lease.
	Partitions          int
	ProjectorPartitions int
	// Outage is how long a database stays down.
	Outage time.Duration

	// The workers' fault layer (see internal/faults).
	Ambiguous float64
	Before    float64
	Latency   time.Duration

	// Settle bounds the wait, after the last order started and the last
	// fault ended, for every saga to end.
	Settle time.Duration
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Orders < 1:
		return fmt.Errorf("--orders must be at least 1")
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1")
	case o.Workers < 1:
		return fmt.Errorf("--workers must be at least 1")
	case o.FailShare < 0 || o.FailShare > 1:
		return fmt.Errorf("--fail-share must be from 0 to 1")
	case o.Kills < 0 || o.Terms < 0 || o.PostgresOutages < 0 || o.MongoOutages < 0 || o.TemporalRestarts < 0 ||
		o.ProjectorKills < 0 || o.ProjectorPauses < 0 || o.Partitions < 0 || o.ProjectorPartitions < 0:
		return fmt.Errorf("fault counts must not be negative")
	case o.Ambiguous < 0 || o.Ambiguous > 1 || o.Before < 0 || o.Before > 1:
		return fmt.Errorf("--ambiguous and --before are probabilities from 0 to 1")
	case o.Outage <= 0 || o.Settle <= 0:
		return fmt.Errorf("--outage and --settle must be positive")
	}
	return nil
}

// FaultKind names a scheduled fault.
type FaultKind string

// The scheduled faults.
const (
	FaultKill            FaultKind = "SIGKILL worker"
	FaultTerm            FaultKind = "SIGTERM worker"
	FaultPostgres        FaultKind = "PostgreSQL outage"
	FaultMongo           FaultKind = "FerretDB outage"
	FaultTemporalRestart FaultKind = "Temporal restart"
	// The worker leading the projectors is found when the fault fires.
	FaultProjectorKill  FaultKind = "SIGKILL projector leader"
	FaultProjectorPause FaultKind = "SIGSTOP projector leader"
	// FaultPartition cuts Fault.Worker off from Fault.Server.
	FaultPartition FaultKind = "partition worker"
	// FaultProjectorPartition cuts the leading worker off from PostgreSQL.
	FaultProjectorPartition FaultKind = "partition projector leader"
)

// A partition of a worker lasts from partitionMin to partitionMin +
// partitionSpread: around pgstore.SessionBound, so that some outlast the
// server's bound on a session left hanging in a transaction and some do not.
const (
	partitionMin    = 4 * time.Second
	partitionSpread = 10 * time.Second
)

// Fault is one scheduled fault. It fires once AfterOrders orders have been
// started, a schedule that does not depend on the machine's speed, so a
// seed repeats the same run.
type Fault struct {
	AfterOrders int       `json:"after_orders"`
	Kind        FaultKind `json:"kind"`
	// Worker is the worker a kill or term hits (a projector leader fault
	// hits the worker that leads when it fires).
	Worker int `json:"worker,omitempty"`
	// Server is the server a partition cuts the worker off from.
	Server string `json:"server,omitempty"`
	// Down is how long the worker or server stays down (a paused leader:
	// stopped; a partition: cut off).
	Down time.Duration `json:"down"`
}

// Plan is a run drawn from a seed: the orders and the faults.
type Plan struct {
	Orders []workflows.OrderInput `json:"-"`
	Faults []Fault                `json:"faults"`
}

// The seed data of fault-injection runs: SKUs and customers of their own,
// with stock and money that last many runs, and a customer who cannot pay.
const (
	skuCount      = 20
	customerCount = 50
	poorCustomer  = "chaos-poor"
)

// SKU returns the name of chaos SKU i.
func SKU(i int) string { return fmt.Sprintf("chaos-sku-%02d", i) }

// Customer returns the name of chaos customer i.
func Customer(i int) string { return fmt.Sprintf("chaos-cust-%03d", i) }

// NewPlan draws the orders and the fault schedule of a run from o.Seed.
// runID prefixes the order ids, so every run's orders are new.
func NewPlan(o Options, runID string) Plan {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5a6a))
	p := Plan{Orders: make([]workflows.OrderInput, o.Orders)}
	for i := range p.Orders {
		p.Orders[i] = drawOrder(rng, fmt.Sprintf("%s-%05d", runID, i), o.FailShare)
	}
	partitions := 0
	add := func(n int, kind FaultKind, down func() time.Duration) {
		for range n {
			f := Fault{Kind: kind, Down: down()}
			// Faults land between 5% and 90% of the orders, while sagas run.
			f.AfterOrders = o.Orders/20 + rng.IntN(max(1, o.Orders*85/100))
			if kind == FaultKill || kind == FaultTerm || kind == FaultPartition {
				f.Worker = rng.IntN(o.Workers)
			}
			if kind == FaultPartition { // the servers in turn: every run of three or more cuts each once
				f.Server = PartitionServers[partitions%len(PartitionServers)]
				partitions++
			}
			if kind == FaultProjectorPartition {
				f.Server = ServerPostgres
			}
			p.Faults = append(p.Faults, f)
		}
	}
	restart := func() time.Duration { return time.Duration(200+rng.IntN(1800)) * time.Millisecond }
	outage := func() time.Duration { return o.Outage/2 + time.Duration(rng.Int64N(int64(o.Outage))) }
	add(o.Kills, FaultKill, restart)
	add(o.Terms, FaultTerm, restart)
	add(o.PostgresOutages, FaultPostgres, outage)
	add(o.MongoOutages, FaultMongo, outage)
	add(o.TemporalRestarts, FaultTemporalRestart, func() time.Duration { return 0 })
	// Drawn last, so that a seed keeps the other faults of the runs before them.
	add(o.ProjectorKills, FaultProjectorKill, restart)
	add(o.ProjectorPauses, FaultProjectorPause, func() time.Duration { return LeaderPause })
	add(o.Partitions, FaultPartition, func() time.Duration { return partitionMin + time.Duration(rng.Int64N(int64(partitionSpread))) })
	add(o.ProjectorPartitions, FaultProjectorPartition, func() time.Duration { return LeaderPause })
	slices.SortStableFunc(p.Faults, func(a, b Fault) int { return a.AfterOrders - b.AfterOrders })
	return p
}

var chaosAddress = services.Address{Name: "Chaos Monkey", Street: "1 Fault Line", City: "Berlin", PostalCode: "10115", Country: "DE"}

// drawOrder draws one order: most succeed; failShare of them fail by a
// business rule or a forced failure at a random step.
func drawOrder(rng *rand.Rand, id string, failShare float64) workflows.OrderInput {
	in := workflows.OrderInput{
		OrderID:    id,
		CustomerID: Customer(1 + rng.IntN(customerCount)),
		Region:     workflows.Regions[rng.IntN(len(workflows.Regions))],
		ShipTo:     chaosAddress,
	}
	for range 1 + rng.IntN(3) {
		in.Items = append(in.Items, services.Item{SKU: SKU(1 + rng.IntN(skuCount)), Quantity: int64(1 + rng.IntN(3))})
	}
	if rng.Float64() >= failShare {
		return in
	}
	switch rng.IntN(4) {
	case 0:
		in.CustomerID = poorCustomer
	case 1:
		in.ShipTo.Country = "AQ"
	case 2:
		in.Items = append(in.Items, services.Item{SKU: "chaos-no-such-sku", Quantity: 1})
	default:
		in.Demo.FailAt = workflows.ForceableSteps[rng.IntN(len(workflows.ForceableSteps))]
	}
	return in
}
