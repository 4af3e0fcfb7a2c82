package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/services/invariants"
)

// verifyReport is what verify reports: the invariant checker's verdict, and
// the sagas resolved by hand whose effects it excused.
type verifyReport struct {
	invariants.Report
	Resolved []sagaclient.Resolved `json:"resolved_by_hand"`
}

// String is the checker's summary, then the sagas resolved by hand.
func (r verifyReport) String() string {
	var b strings.Builder
	b.WriteString(r.Report.String())
	writeResolved(&b, r.Resolved)
	return b.String()
}

// verify lists the sagas resolved by hand (through tc) and runs the
// invariant checker over the four stores, excusing the effects those
// resolutions left.
func (c *cli) verify(ctx context.Context, tc client.Client, opts invariants.Options) (verifyReport, error) {
	resolved, err := sagaclient.ListResolved(ctx, tc, c.cfg.TemporalNamespace)
	if err != nil {
		return verifyReport{}, err
	}
	opts.Excuse = append(opts.Excuse, sagaclient.Excuses(resolved)...)
	st, err := c.openStores(ctx)
	if err != nil {
		return verifyReport{}, err
	}
	defer st.Close()
	report, err := st.Check(ctx, opts)
	if err != nil {
		return verifyReport{}, fmt.Errorf("check the invariants: %w", err)
	}
	return verifyReport{Report: report, Resolved: resolved}, nil
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
a breach.

It first asks Temporal for the sagas an operator resolved by hand (SagaStatus
COMPENSATED_BY_HAND, starter resolve) and prints them with their reasons. The
effect a resolved compensation would have undone is left in its store (the
payment still captured, for RefundPayment; the stock still held, for
ReleaseStock; the shipment still booked, for CancelShipment; the order not
cancelled, for CancelOrder): for that order alone it is counted as excused,
not as a breach. Visibility is eventually consistent: a saga resolved a
moment ago may not be listed yet.

Exit status: 0 when nothing is wrong, 1 on any breach, 2 when a store cannot
be read or Temporal cannot be asked for the sagas resolved by hand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			tc, err := c.dial(ctx)
			if err != nil {
				return fmt.Errorf("list the sagas resolved by hand: %w", err)
			}
			defer tc.Close()
			report, err := c.verify(ctx, tc, opts)
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
