package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/metrics"
	"github.com/sagaflow/sagaflow/internal/observability/sagalog"
	"github.com/sagaflow/sagaflow/internal/observability/tracing"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
)

// The worker's metrics endpoint settings.
const (
	metricsFlag          = "--metrics-listen"
	defaultMetricsListen = "127.0.0.1:9464"
	// metricsOff disables the endpoint where "" cannot be given (an
	// environment variable set to "" counts as unset).
	metricsOff = "off"
	// serviceName names the worker in metrics and traces.
	serviceName = "sagaflow-worker"
)

// observability is the worker's logs, metrics and traces: the saga fields on
// every log line, the Prometheus endpoint (when listen is set) and OTLP
// tracing (when configured).
type observability struct {
	log     *zap.Logger
	metrics *metrics.Metrics
	server  *metrics.Server
	tracing *tracing.Tracing
}

// startObservability starts the metrics endpoint on listen ("" or "off":
// none) and the tracing tc asks for. A taken metrics address is an error
// here, before the worker starts anything else.
func startObservability(ctx context.Context, listen string, tc tracing.Config, log *zap.Logger) (*observability, error) {
	o := &observability{log: log}
	if listen != "" && listen != metricsOff {
		m, err := metrics.New(serviceName)
		if err != nil {
			return nil, err
		}
		srv, err := metrics.Serve(listen, metricsFlag, m.Handler())
		if err != nil {
			_ = m.Close(ctx) // nothing was served
			return nil, err
		}
		o.metrics, o.server = m, srv
		log.Info("metrics endpoint listening", zap.String("url", srv.URL()))
	}
	tr, err := tracing.Start(ctx, tc)
	if err != nil {
		o.close()
		return nil, err
	}
	o.tracing = tr
	if tc.Enabled() {
		log.Info("tracing on: exporting spans over OTLP", zap.String("endpoint", tc.Endpoint), zap.String("protocol", tc.Protocol))
	}
	return o, nil
}

// meter is where the worker's own instruments go (nil without a metrics
// endpoint).
func (o *observability) meter() metric.Meter {
	if o.metrics == nil {
		return nil
	}
	return o.metrics.Meter()
}

// dialOptions are the Temporal client's logger, metrics handler and
// tracing interceptor.
func (o *observability) dialOptions(timeout time.Duration) temporalclient.Options {
	opts := temporalclient.Options{
		Logger:       sagalog.SDK(logging.Temporal(o.log)),
		Timeout:      timeout,
		Interceptors: o.tracing.ClientInterceptors(),
	}
	if o.metrics != nil {
		opts.MetricsHandler = o.metrics.SDKHandler()
	}
	return opts
}

// workerInterceptors are the interceptors every activity and workflow runs
// through, outermost first, ahead of those given (such as the fault layer,
// whose faults then count in the step latency as infrastructure errors).
func (o *observability) workerInterceptors(more ...interceptor.WorkerInterceptor) []interceptor.WorkerInterceptor {
	out := []interceptor.WorkerInterceptor{sagalog.Interceptor()}
	if o.metrics != nil {
		out = append(out, o.metrics.StepInterceptor())
	}
	return append(out, more...)
}

// close stops the endpoint and flushes the spans, logging what fails.
func (o *observability) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if o.server != nil {
		if err := o.server.Close(ctx); err != nil {
			o.log.Warn("metrics endpoint", zap.Error(err))
		}
	}
	if o.metrics != nil {
		if err := o.metrics.Close(ctx); err != nil {
			o.log.Warn("metrics", zap.Error(err))
		}
	}
	if err := o.tracing.Close(ctx); err != nil {
		o.log.Warn("tracing", zap.Error(err))
	}
}
