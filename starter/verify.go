package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/services/invariants"
)

// verify runs the invariant checker over the four stores.
func (c *cli) verify(ctx context.Context, opts invariants.Options) (invariants.Report, error) {
	st, err := c.openStores(ctx)
	if err != nil {
		return invariants.Report{}, err
	}
	defer st.Close()
	report, err := st.Check(ctx, opts)
	if err != nil {
		return invariants.Report{}, fmt.Errorf("check the invariants: %w", err)
	}
	return report, nil
}

func (c *cli) verifyCommand() *cobra.Command {
	var opts invariants.Options
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check conservation of stock and money, and that every order's stores agree (exit 1 on any breach)",
		Long: `verify reads all four stores and reports, as numbers, every SKU whose stock
does not add up (available + reserved = total, reserved = reservation ledger),
every account whose money does not add up (balance + captured = credited), and
every order whose stores contradict its status.

While sagas run, a PENDING order is counted as in flight; with --at-rest it is
a breach. Exit status: 0 when nothing is wrong, 1 on any breach, 2 when a
store cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report, err := c.verify(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if err := c.print(report, func(w io.Writer) { fmt.Fprint(w, report.String()) }); err != nil {
				return err
			}
			if report.Breaches() > 0 {
				return errBreach
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Quiet, "at-rest", false, "no saga is running: count half-done orders as breaches")
	return cmd
}
