// Command chaos is sagaflow's fault-injection runner (`make chaos`): it
// drives orders through worker processes it kills, takes PostgreSQL,
// FerretDB and the Temporal server away while sagas run, has the workers
// lose acknowledgements of committed writes, kills and pauses the worker
// leading the projectors, and then gives its verdict: lost orders,
// duplicate effects, invariant breaches, histories that do not replay,
// read store drift, writes by a fenced projector leader, slow failovers
// and write transactions held open too long, all of which must be zero.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := command(os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		if errors.Is(err, errBreaches) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}
