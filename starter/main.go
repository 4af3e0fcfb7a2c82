// Command starter is sagaflow's command-line client: it places orders and
// follows their sagas (place, batch, status, list, cancel), runs the demo,
// seeds the demo data and checks the invariants of the four stores.
//
// Addresses come from the environment (TEMPORAL_ADDRESS,
// INVENTORY_DATABASE_URL, PAYMENTS_DATABASE_URL, MONGO_URI) or, for those
// not set, from the stack file that `make up` writes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sagaflow/sagaflow/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(2)
	}
	os.Exit(run(ctx, cfg, os.Args[1:]))
}
