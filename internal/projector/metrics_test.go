package projector_test

import (
	"context"
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/observability/metrics"
	"github.com/sagaflow/sagaflow/internal/projector"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// TestProjectorMetrics: a projector with the worker's metrics, two sagas
// projected: the Prometheus endpoint serves the events applied per
// source, the end-to-end lag histogram, the backlog gauges and the
// leader gauge.
func TestProjectorMetrics(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{})
	store := readstore.New(testenv.Postgres(t, testenv.Reporting))
	if err := store.Migrate(e.Ctx); err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New("sagaflow-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	p, err := projector.New(store, projector.Sources(e.InventoryPool, e.PaymentsPool, e.MongoDB, e.MongoDB),
		projector.Options{Holder: "metrics-test", LagEvery: 200 * time.Millisecond}, m.Meter(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	var ids []string
	for q := range 2 {
		in := sagatest.Order(sagatest.Rich, int64(q+1))
		if _, end := e.Run(in); end != "" {
			t.Fatalf("saga ended %q", end)
		}
		ids = append(ids, in.OrderID)
	}
	wait, stop := context.WithTimeout(e.Ctx, 30*time.Second)
	defer stop()
	if err := store.CaughtUp(wait, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A step retried after its event was projected notes it again: the
	// projector reads the documents once more and applies nothing.
	for _, id := range ids {
		if err := mongostore.NoteEvent(e.Ctx, e.Orders.Collection(), id, services.EventOrderCreated, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.CaughtUp(wait, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	value := func(re string) float64 {
		t.Helper()
		match := regexp.MustCompile(`(?m)^` + re + ` ([0-9.e+-]+)$`).FindSubmatch(body)
		if match == nil {
			t.Fatalf("no %s in:\n%s", re, body)
		}
		v, err := strconv.ParseFloat(string(match[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Two completed sagas: 3 order events, 2 stock, 2 payment, 2 shipment.
	for source, want := range map[string]float64{"orders": 4, "inventory": 2, "payments": 2, "shipping": 2} {
		if got := value(`sagaflow_projector_events_total\{[^}]*source="` + source + `"[^}]*\}`); got != want {
			t.Errorf("events applied from %s: %v, want %v", source, got, want)
		}
	}
	// Once per event applied: the documents read again add nothing.
	if n := value(`sagaflow_projector_end_to_end_seconds_count\{[^}]*source="orders"[^}]*\}`); n != 4 {
		t.Errorf("end-to-end lag observations of orders: %v, want 4", n)
	}
	if v := value(`sagaflow_projector_lag_events\{[^}]*source="orders"[^}]*\}`); v != 0 {
		t.Errorf("orders backlog %v once caught up, want 0", v)
	}
	value(`sagaflow_projector_lag_seconds\{[^}]*source="inventory"[^}]*\}`)
	if v := value(`sagaflow_projector_leader(?:\{[^}]*\})?`); v != 1 {
		t.Errorf("leader gauge %v, want 1", v)
	}
}
