// Command starter is sagaflow's command-line client: it places orders and
// follows their sagas (place, batch, status, list, cancel), acts on sagas
// that wait for an operator (retry, resolve), reads the read store (orders,
// order, report), runs the demo, seeds the demo data and checks the
// invariants of the four stores.
//
// Addresses come from the environment (TEMPORAL_ADDRESS,
// INVENTORY_DATABASE_URL, PAYMENTS_DATABASE_URL, REPORTING_DATABASE_URL,
// MONGO_URI) or, for those not set, from the stack file that `make up`
// writes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/observability/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := readEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(2)
	}
	// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT)
	// is set; the saga's trace then starts here and the worker's spans join it.
	tr, err := tracing.Start(ctx, env.tracing)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(2)
	}
	code := run(ctx, env, tr.ClientInterceptors(), os.Args[1:])
	flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := tr.Close(flush); err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
	}
	cancel()
	os.Exit(code)
}

// environment is what the starter reads from its environment: the servers,
// tracing, and the defaults of --encrypt and --codec-key-file.
type environment struct {
	cfg        config.Config
	tracing    tracing.Config
	encryption codec.Settings
	// user is USER, the default of --operator.
	user string
}

// readEnv reads the starter's environment through getenv, once, in main: the
// one place the starter reads it (starter/compose_test.go records the keys it
// asks for and checks docker-compose.yml against them).
func readEnv(getenv func(string) string) (environment, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return environment{}, err
	}
	enc, err := codec.SettingsFromEnv(getenv)
	if err != nil {
		return environment{}, err
	}
	return environment{cfg: cfg, tracing: tracing.FromEnv(getenv, "sagaflow-starter"), encryption: enc, user: getenv("USER")}, nil
}
