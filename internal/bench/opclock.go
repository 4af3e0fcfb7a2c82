package bench

import (
	"sync"
	"time"
)

// The store operations the scale run times, one name per service call.
const (
	OpQuote          = "inventory.Quote"
	OpReserve        = "inventory.Reserve"
	OpRelease        = "inventory.Release"
	OpCharge         = "payments.Charge"
	OpRefund         = "payments.Refund"
	OpCreateOrder    = "orders.Create"
	OpConfirmOrder   = "orders.Confirm"
	OpCancelOrder    = "orders.Cancel"
	OpGetOrder       = "orders.Get"
	OpCreateShipment = "shipping.Create"
	OpCancelShipment = "shipping.Cancel"
	OpGetShipment    = "shipping.Get"
)

// storeOps lists the operations in the order the report shows them.
var storeOps = []string{
	OpQuote, OpCreateOrder, OpReserve, OpCharge, OpCreateShipment, OpConfirmOrder,
	OpRelease, OpRefund, OpCancelShipment, OpCancelOrder, OpGetOrder, OpGetShipment,
}

// opClock records how long each store operation took. A nil *opClock
// records nothing.
type opClock struct {
	mu      sync.Mutex
	samples map[string][]time.Duration
}

func newOpClock() *opClock { return &opClock{samples: map[string][]time.Duration{}} }

// time runs fn and records its duration under op, whatever it returns (a
// business refusal is a store operation too).
func (c *opClock) time(op string, fn func() error) error {
	if c == nil {
		return fn()
	}
	start := time.Now()
	err := fn()
	d := time.Since(start)
	c.mu.Lock()
	c.samples[op] = append(c.samples[op], d)
	c.mu.Unlock()
	return err
}

// OpLatency is one store operation's figures at one size of the stores.
type OpLatency struct {
	Op    string  `json:"op"`
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
}

// summary returns the figures of every operation recorded, in storeOps
// order.
func (c *opClock) summary() []OpLatency {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []OpLatency
	for _, op := range storeOps {
		d := c.samples[op]
		if len(d) == 0 {
			continue
		}
		l := summarize(d)
		out = append(out, OpLatency{Op: op, Count: len(d), P50: l.P50, P99: l.P99})
	}
	return out
}
