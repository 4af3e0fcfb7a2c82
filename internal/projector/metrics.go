package projector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sagaflow/sagaflow/internal/readstore"
)

// instruments are the projector's metrics, served by the worker's (or the
// projector's) Prometheus endpoint as:
//
//	sagaflow_projector_leader                 1 while this process holds the lease
//	sagaflow_projector_lag_events{source}     events not yet in the read store
//	sagaflow_projector_lag_seconds{source}    age of the oldest of them
//	sagaflow_projector_events_total{source}   events applied
//	sagaflow_projector_end_to_end_seconds     event written to view updated (histogram)
//	sagaflow_projector_fenced_total           writes refused because the lease was lost
type instruments struct {
	leader     metric.Int64Gauge
	lagEvents  metric.Int64Gauge
	lagSeconds metric.Float64Gauge
	events     metric.Int64Counter
	endToEnd   metric.Float64Histogram
	fenced     metric.Int64Counter
}

// newInstruments registers the instruments on meter (nil: no metrics).
func newInstruments(meter metric.Meter) (*instruments, error) {
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("")
	}
	var m instruments
	var err error
	if m.leader, err = meter.Int64Gauge("sagaflow_projector_leader",
		metric.WithDescription("1 while this process holds the read store's lease")); err != nil {
		return nil, err
	}
	if m.lagEvents, err = meter.Int64Gauge("sagaflow_projector_lag_events",
		metric.WithDescription("events of a source not yet in the read store")); err != nil {
		return nil, err
	}
	if m.lagSeconds, err = meter.Float64Gauge("sagaflow_projector_lag_seconds", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest event of a source not yet in the read store")); err != nil {
		return nil, err
	}
	if m.events, err = meter.Int64Counter("sagaflow_projector_events",
		metric.WithDescription("events applied to the read store")); err != nil {
		return nil, err
	}
	if m.endToEnd, err = meter.Float64Histogram("sagaflow_projector_end_to_end", metric.WithUnit("s"),
		metric.WithDescription("time from an event's write to its view's update")); err != nil {
		return nil, err
	}
	if m.fenced, err = meter.Int64Counter("sagaflow_projector_fenced",
		metric.WithDescription("writes refused because this process had lost the lease")); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *instruments) leading(on bool) {
	v := int64(0)
	if on {
		v = 1
	}
	m.leader.Record(context.Background(), v)
}

func (m *instruments) lag(ctx context.Context, l readstore.SourceLag) {
	attrs := metric.WithAttributes(attribute.String("source", l.Source))
	m.lagEvents.Record(ctx, int64(l.Events), attrs)
	m.lagSeconds.Record(ctx, l.Seconds(), attrs)
}

func (m *instruments) applied(ctx context.Context, source string, n int) {
	m.events.Add(ctx, int64(n), metric.WithAttributes(attribute.String("source", source)))
}

func (m *instruments) observe(ctx context.Context, source string, d time.Duration) {
	m.endToEnd.Record(ctx, max(0, d.Seconds()), metric.WithAttributes(attribute.String("source", source)))
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
