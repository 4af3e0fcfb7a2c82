package chaos

import (
	"context"
	"fmt"

	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// Seed creates the chaos SKUs and customers that do not exist yet.
func Seed(ctx context.Context, st invariants.Stores) error {
	stock := make([]inventory.Stock, skuCount)
	for i := range stock {
		stock[i] = inventory.Stock{SKU: SKU(i + 1), UnitPrice: int64(100 * (i + 1)), Quantity: 100_000_000}
	}
	accounts := []payments.Account{{CustomerID: poorCustomer, Balance: 1}}
	for i := 1; i <= customerCount; i++ {
		accounts = append(accounts, payments.Account{CustomerID: Customer(i), Balance: 100_000_000_000})
	}
	if _, err := st.Inventory.Seed(ctx, stock); err != nil {
		return fmt.Errorf("seed chaos stock: %w", err)
	}
	if _, err := st.Payments.Seed(ctx, accounts); err != nil {
		return fmt.Errorf("seed chaos accounts: %w", err)
	}
	return nil
}
