package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/faults"
	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/tracing"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/workflows"
)

// settings are the worker's flags; each has an environment variable.
type settings struct {
	regions     string
	concurrency int
	pgMaxConns  int
	logFormat   string
	logLevel    string
	stopTimeout time.Duration
	faults      string
	queuePrefix string
	// metricsListen is the Prometheus endpoint's address ("" or "off": none).
	metricsListen string
	// tracing comes from the standard OTEL_* variables.
	tracing tracing.Config
	// encryption is --encrypt and the keys (internal/codec).
	encryption codec.Settings
	// cleanup is the retention cleanup's flags.
	cleanup cleanupSettings
	// projector runs a projector of the read side in the worker.
	projector bool
	// envErr reports a malformed numeric environment variable.
	envErr error
}

func command(cfg config.Config, getenv func(string) string) *cobra.Command {
	s := settings{
		regions:     envOr(getenv, "SAGAFLOW_REGIONS", strings.Join(workflows.Regions, ",")),
		logFormat:   envOr(getenv, "SAGAFLOW_LOG_FORMAT", logging.FormatAuto),
		logLevel:    envOr(getenv, "SAGAFLOW_LOG_LEVEL", "info"),
		stopTimeout: 10 * time.Second,
		faults:      getenv("SAGAFLOW_FAULTS"),

		metricsListen: envOr(getenv, "SAGAFLOW_METRICS_LISTEN", defaultMetricsListen),
		tracing:       tracing.FromEnv(getenv, serviceName),
	}
	s.concurrency, s.envErr = envInt(getenv, "SAGAFLOW_CONCURRENCY", 64, s.envErr)
	s.pgMaxConns, s.envErr = envInt(getenv, "SAGAFLOW_PG_MAX_CONNS", 20, s.envErr)
	s.cleanup.enabled, s.envErr = envBool(getenv, "SAGAFLOW_CLEANUP", true, s.envErr)
	s.projector, s.envErr = envBool(getenv, "SAGAFLOW_PROJECTOR", true, s.envErr)
	s.cleanup.interval, s.envErr = envDuration(getenv, "SAGAFLOW_CLEANUP_INTERVAL", workers.DefaultCleanupInterval, s.envErr)
	s.cleanup.margin, s.envErr = envDuration(getenv, "SAGAFLOW_CLEANUP_MARGIN", workflows.DefaultCleanupMargin, s.envErr)
	s.cleanup.batch, s.envErr = envInt(getenv, "SAGAFLOW_CLEANUP_BATCH", workflows.DefaultCleanupBatch, s.envErr)
	var encErr error
	if s.encryption, encErr = codec.SettingsFromEnv(getenv); s.envErr == nil {
		s.envErr = encErr
	}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the order saga's Temporal workers",
		Long: `worker runs the order saga: one Temporal worker per region, polling the
task queue orders-<region>, with the saga's activities against the inventory
and payments databases (PostgreSQL) and the orders and shipping databases
(MongoDB). It migrates every schema at start and stops gracefully on SIGINT
or SIGTERM, letting running activities finish.

Servers (environment, or the stack file .data/stack.env that "make up" writes):
  TEMPORAL_ADDRESS         Temporal frontend, host:port
  TEMPORAL_NAMESPACE       Temporal namespace (default "default")
  INVENTORY_DATABASE_URL   PostgreSQL URL of the inventory database
  PAYMENTS_DATABASE_URL    PostgreSQL URL of the payments database
  REPORTING_DATABASE_URL   PostgreSQL URL of the reporting database (the read store)
  MONGO_URI                MongoDB URI for the orders and shipping databases

Connection security (README, "Security"): TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT,
TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME (TLS, mTLS), TEMPORAL_API_KEY (implies
TLS), TEMPORAL_TLS=true|false to force TLS on or off.

Tracing (off unless an endpoint is set): OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (grpc or
http/protobuf, the default), OTEL_SERVICE_NAME.

Each flag below can also be set by the environment variable in brackets.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), cfg, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.regions, "regions", s.regions, "comma-separated regions to serve, of "+strings.Join(workflows.Regions, ", ")+" [SAGAFLOW_REGIONS]")
	f.IntVar(&s.concurrency, "concurrency", s.concurrency, "activities and workflow tasks run at once, per region [SAGAFLOW_CONCURRENCY]")
	f.IntVar(&s.pgMaxConns, "pg-max-conns", s.pgMaxConns, "connections per PostgreSQL pool [SAGAFLOW_PG_MAX_CONNS]")
	f.StringVar(&s.logFormat, "log-format", s.logFormat, "auto (console on a terminal, JSON otherwise), console or json [SAGAFLOW_LOG_FORMAT]")
	f.StringVar(&s.logLevel, "log-level", s.logLevel, "debug, info, warn or error [SAGAFLOW_LOG_LEVEL]")
	f.DurationVar(&s.stopTimeout, "stop-timeout", s.stopTimeout, "how long a stop waits for running activities")
	f.StringVar(&s.queuePrefix, "task-queue-prefix", "", "serve the task queues <prefix><region> instead of orders-<region> (fault-injection runs use their own)")
	f.StringVar(&s.faults, "faults", s.faults, "fault injection for fault-injection runs, off by default: \"ambiguous=P,before=P,latency=D,seed=N\" "+
		"(P: probability that an activity commits and then reports an error / fails before it runs; D: max latency added) [SAGAFLOW_FAULTS]")
	f.BoolVar(&s.encryption.Enabled, "encrypt", s.encryption.Enabled, "encrypt every payload (AES-256-GCM) with the keys of --codec-key-file or SAGAFLOW_CODEC_KEYS; "+
		"starters and the codec server need the same keys [SAGAFLOW_ENCRYPT]")
	f.StringVar(&s.encryption.Keys.File, "codec-key-file", s.encryption.Keys.File, "key file for --encrypt (go run ./codecserver genkey --out FILE) [SAGAFLOW_CODEC_KEY_FILE]")
	f.StringVar(&s.metricsListen, "metrics-listen", s.metricsListen, "address of the Prometheus endpoint (/metrics); \"\" or off: none, port 0: a free one [SAGAFLOW_METRICS_LISTEN]")
	f.BoolVar(&s.cleanup.enabled, "cleanup", s.cleanup.enabled, "serve the retention cleanup and create or update its schedule ("+workers.CleanupScheduleID+
		"); false leaves an existing schedule alone [SAGAFLOW_CLEANUP]")
	f.DurationVar(&s.cleanup.interval, "cleanup-interval", s.cleanup.interval, "time between cleanup runs [SAGAFLOW_CLEANUP_INTERVAL]")
	f.DurationVar(&s.cleanup.margin, "cleanup-margin", s.cleanup.margin, "the cleanup removes idempotency records older than the namespace's retention plus this margin (at least "+
		minCleanupMargin.String()+") [SAGAFLOW_CLEANUP_MARGIN]")
	f.BoolVar(&s.projector, "projector", s.projector, "run a projector of the read side (one process at a time writes the read store; "+
		"the others stand by); false: only the workers [SAGAFLOW_PROJECTOR]")
	f.IntVar(&s.cleanup.batch, "cleanup-batch", s.cleanup.batch, "records the cleanup removes per statement [SAGAFLOW_CLEANUP_BATCH]")
	return cmd
}

func run(ctx context.Context, cfg config.Config, s settings) error {
	if s.envErr != nil {
		return s.envErr
	}
	log, err := logging.New(s.logFormat, s.logLevel, nil)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do if stderr is gone
	regions := strings.Split(s.regions, ",")
	queues, err := workers.QueuesFor(s.queuePrefix, regions)
	if err != nil {
		return err
	}
	if s.concurrency < 1 || s.pgMaxConns < 1 {
		return fmt.Errorf("--concurrency and --pg-max-conns must be at least 1")
	}
	if err := s.cleanup.validate(); err != nil {
		return err
	}
	faultCfg, err := faults.Parse(s.faults)
	if err != nil {
		return err
	}
	obs, err := startObservability(ctx, s.metricsListen, s.tracing, log)
	if err != nil {
		return err
	}
	defer obs.close()
	dialOpts := obs.dialOptions(15 * time.Second)
	ring, err := s.encryption.Apply(&dialOpts)
	if err != nil {
		return err
	}
	if ring != nil {
		log.Info("payload encryption on", zap.String("current_key", ring.Current()), zap.Strings("keys", ring.IDs()))
	}
	var interceptors []interceptor.WorkerInterceptor
	if faultCfg.Enabled() {
		log.Warn("FAULT INJECTION ON: activities will fail on purpose", zap.String("faults", faultCfg.String()))
		interceptors = append(interceptors, faultCfg.Interceptor(log, uint64(os.Getpid())))
	}
	st, err := openStores(ctx, cfg, stores.Options{MaxConns: int32(s.pgMaxConns)}, log)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("stores ready, schemas migrated")
	c, err := temporalclient.Dial(ctx, cfg, dialOpts)
	if err != nil {
		return err
	}
	defer c.Close()
	acts := &activities.Activities{Inventory: st.Inventory, Payments: st.Payments, Orders: st.Orders, Shipping: st.Shipping}
	pool, err := workers.Start(c, acts, queues, workers.Options{
		Concurrency: s.concurrency, StopTimeout: s.stopTimeout, Interceptors: obs.workerInterceptors(interceptors...),
	})
	if err != nil {
		return err
	}
	rs, err := startReadSide(ctx, cfg, s.projector, obs.meter(), log)
	if err != nil {
		pool.Stop()
		return err
	}
	defer rs.stop()
	cleanup, err := startCleanup(ctx, c, cfg, st, rs.store, s.cleanup, workers.Options{StopTimeout: s.stopTimeout}, log)
	if err != nil {
		pool.Stop()
		return err
	}
	log.Info("worker running", zap.Strings("task_queues", queues), zap.String("temporal", cfg.TemporalAddress),
		zap.String("namespace", cfg.TemporalNamespace), zap.Int("concurrency", s.concurrency))
	<-ctx.Done()
	log.Info("stopping: letting running activities finish", zap.Duration("timeout", s.stopTimeout))
	pool.Stop()
	cleanup.Stop()
	log.Info("stopped")
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// envInt reads an integer variable, def when unset. The first malformed
// value becomes the returned error (prev, if set, wins).
func envInt(getenv func(string) string, key string, def int, prev error) (int, error) {
	raw := getenv(key)
	if raw == "" {
		return def, prev
	}
	v, err := strconv.Atoi(raw)
	if err != nil {
		if prev == nil {
			prev = fmt.Errorf("%s=%q is not an integer", key, raw)
		}
		return def, prev
	}
	return v, prev
}

// storesWait bounds how long a starting worker waits for its databases: a
// worker restarted during a database outage waits for the database instead
// of exiting.
const storesWait = time.Minute

// openStores opens the stores, trying again until they answer or storesWait
// has passed.
func openStores(ctx context.Context, cfg config.Config, opts stores.Options, log *zap.Logger) (*stores.Stores, error) {
	deadline := time.Now().Add(storesWait)
	for {
		st, err := stores.Open(ctx, cfg, opts)
		if err == nil {
			return st, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		log.Warn("stores not ready, trying again", zap.Error(err))
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
