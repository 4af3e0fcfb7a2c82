package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// bulkReport is what retry and resolve with --query report.
type bulkReport struct {
	// Query is the visibility query as sent: the user's, limited to running
	// order sagas.
	Query   string `json:"query"`
	Action  string `json:"action"`
	Request any    `json:"request"`
	// Sent is false without --yes: the sagas were listed, nothing was sent.
	Sent  bool           `json:"sent"`
	Sagas []actionReport `json:"sagas"`
	// Counts counts the sagas by result (acted, refused, error), with --yes.
	Counts map[string]int `json:"counts,omitempty"`
}

// bulkQuery limits a user's visibility query to running order sagas.
func bulkQuery(query string) string {
	return fmt.Sprintf("WorkflowType = %s AND ExecutionStatus = %s AND (%s)", strconv.Quote(sagaType), strconv.Quote("Running"), query)
}

// operateBulk lists the running sagas f.query matches with what is failing
// in each, and with --yes sends op to each, f.concurrency at a time.
func (c *cli) operateBulk(ctx context.Context, tc client.Client, op operation, f operatorFlags) error {
	rep := bulkReport{Query: bulkQuery(f.query), Action: op.verb, Request: op.request}
	sagas, err := listSagas(ctx, tc, c.cfg.TemporalNamespace, rep.Query, math.MaxInt)
	if err != nil {
		return err
	}
	rep.Sagas = make([]actionReport, len(sagas))
	forEach(len(sagas), f.concurrency, func(i int) {
		s := sagas[i]
		r := &rep.Sagas[i]
		*r = actionReport{OrderID: s.OrderID, WorkflowID: s.WorkflowID, RunID: s.RunID, TaskQueue: s.TaskQueue, Status: s.Status}
		if d, err := describeSaga(ctx, tc, s.OrderID); err == nil {
			r.Failing = failing(pendingActivities(d))
		}
		// else: the listing stands; acting on it reports the problem.
	})
	if !f.yes {
		if err := c.print(rep, func(w io.Writer) { writeBulkPlan(w, rep) }); err != nil {
			return err
		}
		return nil
	}
	rep.Sent = true
	if !c.json {
		writeBulkPlan(c.out, rep)
	}
	if len(rep.Sagas) > 0 {
		prog := startProgressOf(c.errOut, len(rep.Sagas), isTerminal(c.errOut), 2*time.Second, actionResults)
		forEach(len(rep.Sagas), f.concurrency, func(i int) {
			c.act(ctx, tc, op, &rep.Sagas[i], f.timeout)
			prog.add(rep.Sagas[i].Result)
		})
		prog.finish()
	}
	rep.Counts = map[string]int{}
	for _, r := range rep.Sagas {
		rep.Counts[r.Result]++
	}
	if err := c.print(rep, func(w io.Writer) { writeBulkResults(w, rep) }); err != nil {
		return err
	}
	if n := len(rep.Sagas) - rep.Counts[actionActed]; n > 0 {
		return failedResult("%d of %d sagas were not acted on (%d refused, %d errors)", n, len(rep.Sagas),
			rep.Counts[actionRefused], rep.Counts[actionError])
	}
	return nil
}

// forEach calls fn for 0 to n-1, at most concurrency at a time, and
// returns when every call has.
func forEach(n, concurrency int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// writeBulkPlan prints the sagas the query matched and, before --yes, how
// to act on them.
func writeBulkPlan(w io.Writer, rep bulkReport) {
	if len(rep.Sagas) == 0 {
		fmt.Fprintf(w, "no running saga matches %s: nothing to %s\n", rep.Query, rep.Action)
		return
	}
	fmt.Fprintf(w, "%d running saga(s) match %s:\n", len(rep.Sagas), rep.Query)
	t := newTable(w, "ORDER", "STATUS", "FAILING")
	for _, r := range rep.Sagas {
		t.row(r.OrderID, r.Status, failingText(r.Failing, 60))
	}
	t.flush()
	if !rep.Sent {
		fmt.Fprintf(w, "nothing was sent: run the same command with --yes to %s these %d saga(s)\n", rep.Action, len(rep.Sagas))
	}
}

// writeBulkResults prints what the action did to each saga.
func writeBulkResults(w io.Writer, rep bulkReport) {
	if len(rep.Sagas) == 0 {
		return
	}
	fmt.Fprintln(w)
	t := newTable(w, "ORDER", "RESULT", "DETAIL")
	for _, r := range rep.Sagas {
		detail := r.Reason
		if r.Result == actionActed {
			detail = actedText(r)
		}
		t.row(r.OrderID, r.Result, oneLine(detail, 160))
	}
	t.flush()
	fmt.Fprintf(w, "%s: %d acted on, %d refused, %d errors, of %d saga(s)\n", rep.Action,
		rep.Counts[actionActed], rep.Counts[actionRefused], rep.Counts[actionError], len(rep.Sagas))
}
