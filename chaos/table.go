package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
)

// writeTable prints the verdict and the figures of a run.
func writeTable(w io.Writer, rep chaos.Report) {
	v, f := rep.Verdict, rep.Figures
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	verdict := "PASS"
	if v.Breaches() > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(tw, "VERDICT\t%s\t(run %s, seed %d)\n", verdict, rep.RunID, rep.Seed)
	fmt.Fprintf(tw, "lost orders\t%d\t(%d not ended, %d unknown to visibility)\n", v.Lost(), len(v.NotTerminal), len(v.UnknownToVisibility))
	fmt.Fprintf(tw, "duplicate effects\t%d\t\n", len(v.Invariants.DuplicateEffects))
	fmt.Fprintf(tw, "conservation breaches\t%d\t(%d SKUs, %d accounts checked)\n", len(v.Invariants.StockBreaches)+len(v.Invariants.MoneyBreaches), v.Invariants.SKUs, v.Invariants.Accounts)
	fmt.Fprintf(tw, "orders whose stores disagree\t%d\t\n", len(v.Invariants.Disagreements))
	fmt.Fprintf(tw, "histories replayed\t%d of %d\t(%d failed)\n", v.Replayed-len(v.ReplayFailures), v.Sagas, len(v.ReplayFailures))
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintf(tw, "sagas run\t%d\t(%s)\n", f.Orders, outcomes(f))
	fmt.Fprintf(tw, "worker SIGKILLs / SIGTERMs\t%d / %d\t(%d exits on their own, restarted)\n", f.Kills, f.Terms, f.WorkerExits)
	fmt.Fprintf(tw, "PostgreSQL / FerretDB outages\t%d / %d\t\n", f.PostgresOutages, f.MongoOutages)
	fmt.Fprintf(tw, "Temporal restarts\t%d\t\n", f.TemporalRestarts)
	fmt.Fprintf(tw, "ambiguous commits injected\t%d\t(and %d failures before commit)\n", f.AmbiguousCommits, f.FailuresBeforeCommit)
	fmt.Fprintf(tw, "time from last fault to quiet\t%s\t\n", f.QuietAfterLastFault.Round(time.Millisecond))
	fmt.Fprintf(tw, "saga latency p50 / p99\t%s / %s\t\n", f.P50.Round(time.Millisecond), f.P99.Round(time.Millisecond))
	fmt.Fprintf(tw, "elapsed\t%s\t\n", f.Elapsed.Round(time.Second))
	tw.Flush()
	problems := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for i, it := range items {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more (see the JSON report)\n", len(items)-10)
				break
			}
			fmt.Fprintf(w, "  %s\n", it)
		}
	}
	problems("not ended", v.NotTerminal)
	problems("unknown to visibility", v.UnknownToVisibility)
	problems("replay failures", v.ReplayFailures)
	if v.Invariants.Breaches() > 0 {
		fmt.Fprint(w, v.Invariants.String())
	}
}

func outcomes(f chaos.Figures) string {
	var parts []string
	for _, k := range sagaclient.Kinds {
		if n := f.Outcomes[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if missing := f.Orders - f.Ended; missing > 0 {
		parts = append(parts, fmt.Sprintf("%d without an outcome", missing))
	}
	return strings.Join(parts, ", ")
}
