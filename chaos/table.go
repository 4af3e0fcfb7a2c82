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
	fmt.Fprintf(tw, "read store drift\t%d\t(%d orders checked against the write stores)\n", len(v.ReadStoreDrift), v.ReadStoreOrders)
	fmt.Fprintf(tw, "writes by a fenced leader\t%d\t\n", v.FencedWrites)
	fmt.Fprintf(tw, "projector failovers over %s\t%d\t(of %d; longest %s)\n", chaos.FailoverBound, len(v.SlowFailovers), len(f.Failovers), f.MaxFailover.Round(time.Millisecond))
	fmt.Fprintf(tw, "write transactions open over %s\t%d\t(longest %s)\n", chaos.WriteTxBound, len(v.LongWriteTransactions), f.WriteTxs.Longest.Open.Round(time.Millisecond))
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintf(tw, "sagas run\t%d\t(%s)\n", f.Orders, outcomes(f))
	fmt.Fprintf(tw, "worker SIGKILLs / SIGTERMs\t%d / %d\t(%d exits on their own, restarted)\n", f.Kills, f.Terms, f.WorkerExits)
	fmt.Fprintf(tw, "PostgreSQL / FerretDB outages\t%d / %d\t\n", f.PostgresOutages, f.MongoOutages)
	fmt.Fprintf(tw, "Temporal restarts\t%d\t\n", f.TemporalRestarts)
	fmt.Fprintf(tw, "partitions of a worker\t%d\t(PostgreSQL %d, FerretDB %d, Temporal %d; connections hang, nothing passes)\n",
		f.Partitions[chaos.ServerPostgres]+f.Partitions[chaos.ServerFerretDB]+f.Partitions[chaos.ServerTemporal],
		f.Partitions[chaos.ServerPostgres], f.Partitions[chaos.ServerFerretDB], f.Partitions[chaos.ServerTemporal])
	fmt.Fprintf(tw, "projector leader SIGKILLs / SIGSTOPs / partitions\t%d / %d / %d\t(%d skipped: no worker of the run led)\n",
		f.ProjectorKills, f.ProjectorPauses, f.ProjectorPartitions, f.ProjectorFaultsSkipped)
	fmt.Fprintf(tw, "projector failover (max)\t%s\t(%s)\n", f.MaxFailover.Round(time.Millisecond), failovers(f.Failovers))
	fmt.Fprintf(tw, "longest write transaction\t%s\t(%s; %d samples, %d failed)\n", f.WriteTxs.Longest.Open.Round(time.Millisecond), writeTx(f.WriteTxs.Longest), f.WriteTxs.Samples, f.WriteTxs.Failed)
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
	problems("read store drift", v.ReadStoreDrift)
	problems("slow projector failovers", strs(v.SlowFailovers, chaos.Failover.String))
	problems("write transactions open too long", strs(v.LongWriteTransactions, writeTx))
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

// failovers lists each failover's time by kind, in the run's order.
func failovers(fs []chaos.Failover) string {
	if len(fs) == 0 {
		return "none measured"
	}
	var parts []string
	for _, f := range fs {
		kind := map[chaos.FaultKind]string{chaos.FaultProjectorKill: "kill", chaos.FaultProjectorPause: "pause",
			chaos.FaultProjectorPartition: "partition"}[f.Kind]
		took := f.Took.Round(time.Millisecond).String()
		if f.NewEpoch == 0 {
			took = "no grant in " + took
		}
		parts = append(parts, kind+" "+took)
	}
	return strings.Join(parts, ", ")
}

// writeTx names a write transaction: its database, session and state.
func writeTx(tx chaos.WriteTx) string {
	if tx.Database == "" {
		return "none seen"
	}
	s := fmt.Sprintf("%s, pid %d, %s", tx.Database, tx.PID, tx.State)
	if tx.Open > chaos.WriteTxBound {
		s += fmt.Sprintf(", open %s, last statement %q", tx.Open.Round(time.Millisecond), tx.Query)
	}
	return s
}

func strs[T any](items []T, str func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = str(it)
	}
	return out
}
