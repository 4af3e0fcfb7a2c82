package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// demoStock is the demo catalog. SKU-LIMITED has 3 units, so orders for it
// run out of stock.
var demoStock = []inventory.Stock{
	{SKU: "SKU-1", UnitPrice: 1250, Quantity: 100_000},
	{SKU: "SKU-2", UnitPrice: 4000, Quantity: 50_000},
	{SKU: "SKU-3", UnitPrice: 9999, Quantity: 20_000},
	{SKU: "SKU-4", UnitPrice: 500, Quantity: 500_000},
	{SKU: "SKU-LIMITED", UnitPrice: 25_000, Quantity: 3},
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

func (c *cli) seedCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seed",
		Short: "Create the demo stock and accounts (existing ones are left as they are)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := c.openStores(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			accounts := demoAccounts()
			newSKUs, err := st.Inventory.Seed(ctx, demoStock)
			if err != nil {
				return err
			}
			newAccounts, err := st.Payments.Seed(ctx, accounts)
			if err != nil {
				return err
			}
			result := map[string]int{"skus": len(demoStock), "new_skus": newSKUs, "accounts": len(accounts), "new_accounts": newAccounts}
			return c.print(result, func(w io.Writer) {
				fmt.Fprintf(w, "seeded %d SKUs (%d new) and %d accounts (%d new)\n", len(demoStock), newSKUs, len(accounts), newAccounts)
			})
		},
	}
}
