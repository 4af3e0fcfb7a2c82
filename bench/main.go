// Command bench is sagaflow's benchmark harness (`make bench`): in one run
// on the local stack it measures the order saga side by side with the
// database floor, bare Temporal with the same steps and a lock-holding
// "coordinated" baseline, at several concurrencies, with orders spread over
// many SKUs and all on one hot SKU, and checks every cell for oversell. It
// prints a table and writes the same as JSON and a PNG chart.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := command(os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
