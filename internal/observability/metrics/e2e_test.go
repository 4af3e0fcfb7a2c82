package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.temporal.io/sdk/interceptor"

	"github.com/sagaflow/sagaflow/internal/observability/metrics"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestSagaMetricsOverHTTP runs sagas through a worker with the metrics of
// the worker binary, scrapes its endpoint over HTTP and finds the sagas
// counted by outcome, the step latency histogram by step and outcome, and
// the SDK's own metrics.
func TestSagaMetricsOverHTTP(t *testing.T) {
	m, err := metrics.New("sagaflow-test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := metrics.Serve("127.0.0.1:0", "--metrics-listen", m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := m.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	e := sagatest.Start(t, sagatest.Options{
		Dial:         temporalclient.Options{MetricsHandler: m.SDKHandler()},
		Interceptors: []interceptor.WorkerInterceptor{m.StepInterceptor()},
	})

	// Three complete, one is refused at ChargePayment and compensated, one
	// names an unknown SKU and is rejected at PriceOrder.
	orders := []workflows.OrderInput{sagatest.Order(sagatest.Rich, 1), sagatest.Order(sagatest.Rich, 2), sagatest.Order(sagatest.Rich, 3),
		sagatest.Order(sagatest.Poor, 2), sagatest.Order(sagatest.Rich, 1)}
	orders[4].Items = []services.Item{{SKU: "T-NONE", Quantity: 1}}
	want := []string{"", "", "", workflows.ErrTypeCompensated, workflows.ErrTypeRejected}
	var wg sync.WaitGroup
	for i, in := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, end := e.Run(in); end != want[i] {
				t.Errorf("order %d ended %q, want %q", i, end, want[i])
			}
		}()
	}
	wg.Wait()

	families := scrape(t, srv.URL())
	queue := map[string]string{"task_queue": e.Queue}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sagaflow_saga_started_total", queue, 5},
		{"sagaflow_saga_completed_total", queue, 3},
		{"sagaflow_saga_compensated_total", map[string]string{"task_queue": e.Queue, "failed_step": workflows.StepChargePayment}, 1},
		{"sagaflow_saga_rejected_total", map[string]string{"task_queue": e.Queue, "failed_step": workflows.StepPriceOrder}, 1},
	} {
		if got := sum(families, c.name, c.labels, counterValue); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	steps := "sagaflow_step_duration_seconds"
	for _, c := range []struct {
		step, outcome string
		want          uint64
	}{
		{workflows.StepPriceOrder, metrics.OutcomeSuccess, 4},
		{workflows.StepPriceOrder, metrics.OutcomeBusinessError, 1},
		{workflows.StepCreateOrder, metrics.OutcomeSuccess, 4},
		{workflows.StepChargePayment, metrics.OutcomeBusinessError, 1},
		{workflows.StepConfirmOrder, metrics.OutcomeSuccess, 3},
		{"RefundPayment", metrics.OutcomeSuccess, 1},
	} {
		got := uint64(sum(families, steps, map[string]string{"step": c.step, "outcome": c.outcome}, func(m *dto.Metric) float64 {
			if h := m.GetHistogram(); h != nil {
				if len(h.GetBucket()) < len(metrics.SecondsBuckets()) || h.GetSampleSum() <= 0 {
					t.Errorf("%s{step=%s}: %d buckets, sum %v", steps, c.step, len(h.GetBucket()), h.GetSampleSum())
				}
				return float64(h.GetSampleCount())
			}
			return 0
		}))
		if got != c.want {
			t.Errorf("%s{step=%q,outcome=%q} count = %d, want %d", steps, c.step, c.outcome, got, c.want)
		}
	}
	// The SDK's metrics are served too.
	if got := sum(families, "temporal_workflow_completed_total", queue, counterValue); got != 3 {
		t.Errorf("temporal_workflow_completed_total = %v, want 3", got)
	}
}

// scrape reads the endpoint over HTTP.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

func counterValue(m *dto.Metric) float64 { return m.GetCounter().GetValue() }

// sum adds value over the series of name whose labels include labels.
func sum(families map[string]*dto.MetricFamily, name string, labels map[string]string, value func(*dto.Metric) float64) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			total += value(m)
		}
	}
	return total
}

func TestServeRefusesATakenAddress(t *testing.T) {
	m, err := metrics.New("sagaflow-test")
	if err != nil {
		t.Fatal(err)
	}
	first, err := metrics.Serve("127.0.0.1:0", "--metrics-listen", m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(context.Background()) //nolint:errcheck // test cleanup
	_, err = metrics.Serve(first.Addr(), "--metrics-listen", m.Handler())
	if err == nil {
		t.Fatalf("a second endpoint on %s started", first.Addr())
	}
	want := fmt.Sprintf("metrics endpoint: cannot listen on %s", first.Addr())
	if msg := err.Error(); len(msg) < len(want) || msg[:len(want)] != want {
		t.Errorf("error %q, want it to start with %q", msg, want)
	}
	t.Log(err)
}
