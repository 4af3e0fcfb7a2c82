// Package metrics gives the worker its Prometheus endpoint: one OpenTelemetry
// meter provider, exported through the OpenTelemetry Prometheus exporter to a
// registry of its own, that receives the Temporal SDK's metrics (through
// go.temporal.io/sdk/contrib/opentelemetry's handler, so also the saga's
// counters that workflows emit through workflow.GetMetricsHandler) and the
// step latency histogram of StepInterceptor.
//
// Names follow Prometheus conventions: a counter named
// "sagaflow_saga_started" is served as sagaflow_saga_started_total, a
// histogram in seconds as <name>_seconds.
package metrics

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// scope names the meter of sagaflow's own instruments and of the SDK's.
const scope = "github.com/sagaflow/sagaflow"

// SecondsBuckets returns the bucket boundaries of every histogram in
// seconds (the SDK's latencies and the steps'): from 5 ms to 2 minutes, a
// step's deadline.
func SecondsBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
}

// Metrics is a meter provider and the Prometheus registry it is served
// from. Close it to stop collecting.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	sdk      client.MetricsHandler
	steps    metric.Float64Histogram
}

// New returns the metrics of a process named service (the service.name of
// the target_info metric), such as "sagaflow-worker".
func New(service string) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, fmt.Errorf("metrics resource: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(res),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: SecondsBuckets()}},
		)),
	)
	m := &Metrics{registry: reg, provider: provider, meter: provider.Meter(scope)}
	m.sdk = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: m.meter,
		// SDK counters only grow: served as Prometheus counters (_total).
		UseMonotonicCounters: true,
		// The default panics on an instrument the meter refuses (a name
		// reused with another kind): an unrecorded metric is better than a
		// dead worker.
		OnError: func(error) {},
	})
	m.steps, err = m.meter.Float64Histogram(StepDuration,
		metric.WithUnit("s"),
		metric.WithDescription("How long one attempt of a saga step or compensation took in the worker, by step and outcome."),
		metric.WithExplicitBucketBoundaries(SecondsBuckets()...))
	if err != nil {
		return nil, fmt.Errorf("step histogram: %w", err)
	}
	return m, nil
}

// SDKHandler is the handler for client.Options.MetricsHandler: the SDK's
// metrics and the workflows' (workflow.GetMetricsHandler) land here.
func (m *Metrics) SDKHandler() client.MetricsHandler { return m.sdk }

// Meter is the meter of sagaflow's own instruments (the projector's, say),
// served with the rest.
func (m *Metrics) Meter() metric.Meter { return m.meter }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Close stops the meter provider; the handler serves nothing new after it.
func (m *Metrics) Close(ctx context.Context) error {
	if err := m.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop metrics: %w", err)
	}
	return nil
}
