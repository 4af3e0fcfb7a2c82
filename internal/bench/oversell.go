package bench

import (
	"context"
	"fmt"

	"github.com/sagaflow/sagaflow/services/invariants"
)

// StockCheck is what a cell's stores say after the cell: the stock of its
// SKUs against what its clients were told was sold.
type StockCheck struct {
	// Checked is false for modes that touch no store.
	Checked bool `json:"checked"`
	// Stock is the units seeded over the cell's SKUs.
	Stock int64 `json:"stock"`
	// Sold is the units of the orders reported completed to the clients;
	// Reserved the units the stores hold for orders.
	Sold     int64 `json:"sold"`
	Reserved int64 `json:"reserved"`
	// Oversold is the units sold beyond the stock, by either count; it
	// must be zero.
	Oversold int64 `json:"oversold"`
	// Unbalanced counts SKUs where available < 0, available + reserved !=
	// total, or reserved differs from the reservation ledger.
	Unbalanced int `json:"unbalanced"`
	// Lost counts orders reported completed whose units the stores do not
	// hold (Sold > Reserved).
	Lost int64 `json:"lost"`
	// Breaches is the invariant checker's count at rest: conservation
	// breaches, orders whose stores disagree, duplicate effects.
	Breaches int `json:"breaches"`
	// Detail describes the first problems found, for the report.
	Detail string `json:"detail,omitempty"`
}

// OK reports whether the check found nothing wrong.
func (c StockCheck) OK() bool {
	return c.Oversold == 0 && c.Unbalanced == 0 && c.Lost == 0 && c.Breaches == 0
}

// checkStock audits the cell's stores after its last order ended. sold is
// the units of the orders the clients saw complete.
func checkStock(ctx context.Context, st invariants.Stores, cat catalog, sold int64) (StockCheck, error) {
	audit, err := st.Inventory.Audit(ctx)
	if err != nil {
		return StockCheck{}, fmt.Errorf("stock check: %w", err)
	}
	c := StockCheck{Checked: true, Stock: cat.stock * int64(len(cat.skus)), Sold: sold}
	for _, s := range audit.SKUs {
		c.Reserved += s.Reserved
		if !s.Balanced() {
			c.Unbalanced++
		}
	}
	c.Oversold = max(c.Sold, c.Reserved) - c.Stock
	if c.Oversold < 0 {
		c.Oversold = 0
	}
	c.Lost = max(c.Sold-c.Reserved, 0)
	rep, err := invariants.Check(ctx, st, invariants.Options{Quiet: true})
	if err != nil {
		return StockCheck{}, fmt.Errorf("stock check: %w", err)
	}
	c.Breaches = rep.Breaches()
	if !c.OK() {
		c.Detail = fmt.Sprintf("stock %d, sold %d, reserved %d, unbalanced SKUs %d; %s", c.Stock, c.Sold, c.Reserved, c.Unbalanced, rep.String())
		if len(c.Detail) > 2000 {
			c.Detail = c.Detail[:2000] + "..."
		}
	}
	return c, nil
}
