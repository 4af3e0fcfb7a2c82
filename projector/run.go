package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/metrics"
	"github.com/sagaflow/sagaflow/internal/projector"
)

// settings are the projector's flags.
type settings struct {
	logFormat     string
	logLevel      string
	metricsListen string
	ttl           time.Duration
}

func command(cfg config.Config, getenv func(string) string) *cobra.Command {
	s := settings{
		logFormat:     envOr(getenv, "SAGAFLOW_LOG_FORMAT", logging.FormatAuto),
		logLevel:      envOr(getenv, "SAGAFLOW_LOG_LEVEL", "info"),
		metricsListen: envOr(getenv, "SAGAFLOW_PROJECTOR_METRICS_LISTEN", "127.0.0.1:9465"),
		ttl:           5 * time.Second,
	}
	cmd := &cobra.Command{
		Use:   "projector",
		Short: "Build the read store from the services' domain events",
		Long: `projector reads the domain events of the four services (the event logs of
inventory and payments in PostgreSQL, the events in the orders' and shipments'
documents in MongoDB, which each database's outbox points at) and writes the
views of the read store (the reporting database). Any number may run, in
workers (the default) or alone: one at a time holds the read store's lease and
writes, the others take over within the lease's TTL and a second when it dies.

Servers (environment, or the stack file .data/stack.env that "make up" writes):
  REPORTING_DATABASE_URL   PostgreSQL URL of the reporting database (the read store)
  INVENTORY_DATABASE_URL   PostgreSQL URL of the inventory database
  PAYMENTS_DATABASE_URL    PostgreSQL URL of the payments database
  MONGO_URI                MongoDB URI for the orders and shipping databases`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), cfg, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.logFormat, "log-format", s.logFormat, "auto (console on a terminal, JSON otherwise), console or json [SAGAFLOW_LOG_FORMAT]")
	f.StringVar(&s.logLevel, "log-level", s.logLevel, "debug, info, warn or error [SAGAFLOW_LOG_LEVEL]")
	f.StringVar(&s.metricsListen, "metrics-listen", s.metricsListen, "address of the Prometheus endpoint (/metrics); \"\" or off: none [SAGAFLOW_PROJECTOR_METRICS_LISTEN]")
	f.DurationVar(&s.ttl, "lease-ttl", s.ttl, "the read store's lease: how long a leader that stopped renewing it keeps it")
	return cmd
}

func run(ctx context.Context, cfg config.Config, s settings) error {
	log, err := logging.New(s.logFormat, s.logLevel, nil)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do if stderr is gone
	var meter metric.Meter
	if s.metricsListen != "" && s.metricsListen != "off" {
		m, err := metrics.New("sagaflow-projector")
		if err != nil {
			return err
		}
		srv, err := metrics.Serve(s.metricsListen, "--metrics-listen", m.Handler())
		if err != nil {
			return err
		}
		defer func() {
			stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Close(stop) // stopping: nothing left to do with the error
			_ = m.Close(stop)
		}()
		log.Info("metrics endpoint listening", zap.String("url", srv.URL()))
		meter = m.Meter()
	}
	p, err := projector.Open(ctx, cfg, projector.Options{TTL: s.ttl}, meter, log)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Run(ctx)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
