// Package tracing traces sagas with OpenTelemetry through the Temporal SDK's
// tracing interceptor (go.temporal.io/sdk/contrib/opentelemetry): the
// client that starts a workflow opens its trace, the span context travels
// in the workflow's headers, and the worker's workflow and activity spans
// join it. Spans are exported over OTLP (gRPC or HTTP). Off unless an
// endpoint is configured (FromEnv reads the standard variables).
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// The OTLP protocols Config.Protocol accepts.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// The standard OpenTelemetry variables FromEnv reads.
const (
	EnvEndpoint         = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint   = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol         = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol   = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvServiceName      = "OTEL_SERVICE_NAME"
	EnvTracesExporter   = "OTEL_TRACES_EXPORTER"
	tracesPath          = "/v1/traces"
	defaultProtocol     = ProtocolHTTP
	exporterDisabledVal = "none"
)

// Config says where spans go. The zero value traces nothing.
type Config struct {
	// Endpoint is the OTLP collector's URL, such as http://127.0.0.1:4318
	// (HTTP) or http://127.0.0.1:4317 (gRPC); "" disables tracing. An
	// http:// URL sends without TLS.
	Endpoint string
	// TracesEndpoint says Endpoint is the full traces URL (for HTTP, used
	// as is), not a base URL to which /v1/traces is added.
	TracesEndpoint bool
	// Protocol is ProtocolGRPC or ProtocolHTTP (the default).
	Protocol string
	// Service is the service.name of the spans, such as "sagaflow-worker".
	Service string
}

// Enabled reports whether c exports spans.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// FromEnv reads the standard OpenTelemetry variables through getenv:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (unset:
// no tracing), OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL (default http/protobuf), OTEL_SERVICE_NAME
// (default service) and OTEL_TRACES_EXPORTER=none, which turns tracing off.
// The exporters read the other OTEL_EXPORTER_OTLP_* variables (headers,
// timeout, certificates) themselves.
func FromEnv(getenv func(string) string, service string) Config {
	if getenv(EnvTracesExporter) == exporterDisabledVal {
		return Config{}
	}
	c := Config{Endpoint: getenv(EnvTracesEndpoint), TracesEndpoint: true, Service: service}
	if c.Endpoint == "" {
		c.Endpoint, c.TracesEndpoint = getenv(EnvEndpoint), false
	}
	if c.Protocol = getenv(EnvTracesProtocol); c.Protocol == "" {
		c.Protocol = getenv(EnvProtocol)
	}
	if c.Protocol == "" && c.Endpoint != "" {
		c.Protocol = defaultProtocol
	}
	if name := getenv(EnvServiceName); name != "" {
		c.Service = name
	}
	return c
}

// Tracing is a tracer provider and the Temporal interceptor that uses it.
// Its zero value (and a nil *Tracing) traces nothing.
type Tracing struct {
	provider    *sdktrace.TracerProvider
	interceptor interceptor.Interceptor
}

// Start returns the tracing c asks for: nothing when c is not Enabled, else
// an OTLP exporter behind a batching span processor. Close flushes it.
func Start(ctx context.Context, c Config) (*Tracing, error) {
	if !c.Enabled() {
		return &Tracing{}, nil
	}
	exporter, err := newExporter(ctx, c)
	if err != nil {
		return nil, err
	}
	return New(c.Service, sdktrace.NewBatchSpanProcessor(exporter))
}

// newExporter builds the OTLP span exporter of c.
func newExporter(ctx context.Context, c Config) (sdktrace.SpanExporter, error) {
	protocol := c.Protocol
	if protocol == "" {
		protocol = defaultProtocol
	}
	var exp sdktrace.SpanExporter
	var err error
	switch protocol {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(c.Endpoint))
	case ProtocolHTTP:
		url := c.Endpoint
		if !c.TracesEndpoint {
			url = strings.TrimRight(url, "/") + tracesPath
		}
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url))
	default:
		return nil, fmt.Errorf("OTLP protocol %q: want %s or %s", protocol, ProtocolGRPC, ProtocolHTTP)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter for %s: %w", c.Endpoint, err)
	}
	return exp, nil
}

// New returns tracing that hands every span of service to processor (a
// batching exporter, or an in-memory recorder in tests).
func New(service string, processor sdktrace.SpanProcessor) (*Tracing, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(processor))
	icpt, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            provider.Tracer("github.com/sagaflow/sagaflow"),
		TextMapPropagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		SpanStarter:       startRedacted,
	})
	if err != nil {
		_ = provider.Shutdown(context.Background()) // nothing was exported yet
		return nil, fmt.Errorf("tracing interceptor: %w", err)
	}
	return &Tracing{provider: provider, interceptor: icpt}, nil
}

// ClientInterceptors returns the interceptors for the Temporal client
// (temporalclient.Options.Interceptors): nil when tracing is off. Workers
// built on that client trace too.
func (t *Tracing) ClientInterceptors() []interceptor.ClientInterceptor {
	if t == nil || t.interceptor == nil {
		return nil
	}
	return []interceptor.ClientInterceptor{t.interceptor}
}

// Close flushes the spans not yet exported and stops the provider.
func (t *Tracing) Close(ctx context.Context) error {
	if t == nil || t.provider == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop tracing: %w", err)
	}
	return nil
}

// startRedacted starts a span that records errors the way logs show them
// (see redactedSpan).
func startRedacted(ctx context.Context, t trace.Tracer, name string, opts ...trace.SpanStartOption) trace.Span {
	_, span := t.Start(ctx, name, opts...)
	return &redactedSpan{Span: span}
}
