package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/services/invariants"
)

// verifyReport is what verify reports: the invariant checker's verdict,
// the sagas resolved by hand whose effects it excused, and the read
// store's agreement with the write stores.
type verifyReport struct {
	invariants.Report
	Resolved  []sagaclient.Resolved `json:"resolved_by_hand"`
	ReadStore readstore.CheckReport `json:"read_store"`
}

// Breaches counts the checker's breaches and the read store's drift.
func (r verifyReport) Breaches() int { return r.Report.Breaches() + len(r.ReadStore.Drift) }

// String is the checker's summary, then the sagas resolved by hand and the
// read store's check.
func (r verifyReport) String() string {
	var b strings.Builder
	b.WriteString(r.Report.String())
	writeResolved(&b, r.Resolved)
	fmt.Fprintf(&b, "read store: %d orders checked against the write stores, %d drift\n", r.ReadStore.Orders, len(r.ReadStore.Drift))
	for i, d := range r.ReadStore.Drift {
		if i == maxDriftLines {
			fmt.Fprintf(&b, "  ... and %d more\n", len(r.ReadStore.Drift)-i)
			break
		}
		fmt.Fprintf(&b, "  %s\n", d)
	}
	return b.String()
}

// maxDriftLines bounds the drift lines verify prints (--json has them all).
const maxDriftLines = 20

// readStoreWait bounds verify's wait for the projector to catch up.
const readStoreWait = time.Minute

// openReadStore opens the read store cfg names.
func (c *cli) openReadStore(ctx context.Context) (*readstore.Store, func(), error) {
	pool, _, err := openReadStore(ctx, c.cfg)
	if err != nil {
		return nil, nil, err
	}
	return readstore.New(pool), pool.Close, nil
}

// checkReadStore waits for the projector to catch up with the events
// written until now, then compares the read store with the write stores
// of st (readstore.Store.Check).
func (c *cli) checkReadStore(ctx context.Context, st *stores.Stores, atRest bool) (readstore.CheckReport, error) {
	open := c.readStore
	if open == nil {
		open = c.openReadStore
	}
	rs, release, err := open(ctx)
	if err != nil {
		return readstore.CheckReport{}, err
	}
	defer release()
	wait, cancel := context.WithTimeout(ctx, readStoreWait)
	defer cancel()
	if err := rs.CaughtUp(wait, time.Now()); err != nil {
		return readstore.CheckReport{}, fmt.Errorf("%w (is a projector running? workers run one unless --projector=false)", err)
	}
	return rs.Check(ctx, readstore.WriteStores{
		Inventory: st.Inventory.Pool(), Payments: st.Payments.Pool(),
		Orders: st.Orders.Collection(), Shipments: st.Shipping.Collection(),
	}, atRest)
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
	rs, err := c.checkReadStore(ctx, st, opts.Quiet)
	if err != nil {
		return verifyReport{}, fmt.Errorf("check the read store: %w", err)
	}
	return verifyReport{Report: report, Resolved: resolved, ReadStore: rs}, nil
}

func (c *cli) verifyCommand() *cobra.Command {
	var opts invariants.Options
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check conservation of stock and money, and that every order's stores agree (exit 1 on any breach)",
		Long: `verify reads all four stores and reports, as numbers, every SKU whose stock
does not add up (available + reserved = total, reserved = reservation ledger),
every account whose money does not add up (balance + captured = credited), and
every order whose stores contradict its status. Then it waits (up to a minute)
for the projector to catch up and checks the read store (the reporting
database) against the write stores: every order's view must hold what its
records say, every counter must equal the sum of its orders; each difference
is a breach ("drift").

While sagas run, a PENDING order is counted as in flight (and left out of the
read store's check); with --at-rest it is a breach.

It first asks Temporal for the sagas an operator resolved by hand (SagaStatus
COMPENSATED_BY_HAND, starter resolve) and prints them with their reasons. The
effect a resolved compensation would have undone is left in its store (the
payment still captured, for RefundPayment; the stock still held, for
ReleaseStock; the shipment still booked, for CancelShipment; the order not
cancelled, for CancelOrder): for that order alone it is counted as excused,
not as a breach. Visibility is eventually consistent: a saga resolved a
moment ago may not be listed yet.

Exit status: 0 when nothing is wrong, 1 on any breach, 2 when a store cannot
be read, the projector does not catch up, or Temporal cannot be asked for the
sagas resolved by hand.`,
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
