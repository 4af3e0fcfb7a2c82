package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// limitedSKU is the demo SKU with so little stock that orders for it run out.
const limitedSKU = "SKU-LIMITED"

// demoStock is the demo catalog. SKU-LIMITED has 3 units, so orders for it
// run out of stock.
var demoStock = []inventory.Stock{
	{SKU: "SKU-1", UnitPrice: 1250, Quantity: 100_000},
	{SKU: "SKU-2", UnitPrice: 4000, Quantity: 50_000},
	{SKU: "SKU-3", UnitPrice: 9999, Quantity: 20_000},
	{SKU: "SKU-4", UnitPrice: 500, Quantity: 500_000},
	{SKU: limitedSKU, UnitPrice: 25_000, Quantity: 3},
}

// limitedStock is the number of SKU-LIMITED units ever stocked.
func limitedStock() int64 {
	for _, s := range demoStock {
		if s.SKU == limitedSKU {
			return s.Quantity
		}
	}
	return 0
}

// demoAccounts are the demo customers: alice and bob are rich, carol has
// 20.00, so most of her orders are refused for insufficient funds, and
// cust-001 to cust-100 serve batch runs.
func demoAccounts() []payments.Account {
	accounts := []payments.Account{
		{CustomerID: "alice", Balance: 100_000_000},
		{CustomerID: "bob", Balance: 100_000_000},
		{CustomerID: "carol", Balance: 2_000},
	}
	for i := 1; i <= 100; i++ {
		accounts = append(accounts, payments.Account{CustomerID: fmt.Sprintf("cust-%03d", i), Balance: 1_000_000_000})
	}
	return accounts
}

// seedResult is what seeding created.
type seedResult struct {
	SKUs        int `json:"skus"`
	NewSKUs     int `json:"new_skus"`
	Accounts    int `json:"accounts"`
	NewAccounts int `json:"new_accounts"`
}

func (r seedResult) String() string {
	return fmt.Sprintf("seeded %d SKUs (%d new) and %d accounts (%d new)", r.SKUs, r.NewSKUs, r.Accounts, r.NewAccounts)
}

// seed creates the demo stock and accounts that do not exist yet.
func (c *cli) seed(ctx context.Context) (seedResult, error) {
	st, err := c.openStores(ctx)
	if err != nil {
		return seedResult{}, err
	}
	defer st.Close()
	accounts := demoAccounts()
	newSKUs, err := st.Inventory.Seed(ctx, demoStock)
	if err != nil {
		return seedResult{}, fmt.Errorf("seed the stock: %w", err)
	}
	newAccounts, err := st.Payments.Seed(ctx, accounts)
	if err != nil {
		return seedResult{}, fmt.Errorf("seed the accounts: %w", err)
	}
	return seedResult{SKUs: len(demoStock), NewSKUs: newSKUs, Accounts: len(accounts), NewAccounts: newAccounts}, nil
}

func (c *cli) seedCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seed",
		Short: "Create the demo stock and accounts (existing ones are left as they are)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := c.seed(cmd.Context())
			if err != nil {
				return err
			}
			return c.print(r, func(w io.Writer) { fmt.Fprintln(w, r) })
		},
	}
}
