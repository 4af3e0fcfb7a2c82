package tracing_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sagaflow/sagaflow/internal/observability/tracing"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestSagaSpanTree starts sagas through a traced client, runs them on a
// worker built on it (the real server carries the span context in the
// workflow's headers), and records the spans in memory: each saga is one
// trace, StartWorkflow > RunWorkflow > StartActivity > RunActivity for
// every step, and a refused step's span says its code, not its message.
func TestSagaSpanTree(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr, err := tracing.New("sagaflow-test", rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	e := sagatest.Start(t, sagatest.Options{Dial: temporalclient.Options{Interceptors: tr.ClientInterceptors()}})

	ok, poor := sagatest.Order(sagatest.Rich, 1), sagatest.Order(sagatest.Poor, 2)
	if _, end := e.Run(ok); end != "" {
		t.Fatalf("%s ended %s", ok.OrderID, end)
	}
	if _, end := e.Run(poor); end != workflows.ErrTypeCompensated {
		t.Fatalf("%s ended %s, want compensated", poor.OrderID, end)
	}

	okSpans := spansOf(t, rec, workflows.WorkflowID(ok.OrderID), "RunActivity:ConfirmOrder")
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range okSpans {
		byID[s.SpanContext().SpanID().String()] = s
	}
	parentName := func(s sdktrace.ReadOnlySpan) string {
		if p, ok := byID[s.Parent().SpanID().String()]; ok {
			return p.Name()
		}
		return ""
	}
	start := find(t, okSpans, "StartWorkflow:OrderSaga")
	run := find(t, okSpans, "RunWorkflow:OrderSaga")
	if parentName(run) != start.Name() || start.Parent().IsValid() {
		t.Errorf("RunWorkflow's parent is %q (StartWorkflow is a root: %v), want the client's StartWorkflow", parentName(run), !start.Parent().IsValid())
	}
	for _, step := range []string{workflows.StepPriceOrder, workflows.StepCreateOrder, workflows.StepReserveStock,
		workflows.StepChargePayment, workflows.StepCreateShipment, workflows.StepConfirmOrder} {
		sched := find(t, okSpans, "StartActivity:"+step)
		exec := find(t, okSpans, "RunActivity:"+step)
		if parentName(sched) != run.Name() || parentName(exec) != sched.Name() {
			t.Errorf("%s: StartActivity under %q, RunActivity under %q; want RunWorkflow > StartActivity > RunActivity",
				step, parentName(sched), parentName(exec))
		}
	}
	for _, s := range okSpans {
		if s.SpanContext().TraceID() != start.SpanContext().TraceID() {
			t.Errorf("%s is in trace %s, want the saga's %s", s.Name(), s.SpanContext().TraceID(), start.SpanContext().TraceID())
		}
	}

	// The refused charge: an error span with the code, not the figures.
	poorSpans := spansOf(t, rec, workflows.WorkflowID(poor.OrderID), "RunActivity:CancelOrder")
	charge := find(t, poorSpans, "RunActivity:"+workflows.StepChargePayment)
	if charge.Status().Code != codes.Error || !strings.Contains(charge.Status().Description, "INSUFFICIENT_FUNDS") {
		t.Errorf("refused charge span status %+v, want an error naming INSUFFICIENT_FUNDS", charge.Status())
	}
	balance := strconv.Itoa(sagatest.PoorBalance)
	for _, s := range poorSpans {
		texts := []string{s.Status().Description}
		for _, ev := range s.Events() {
			for _, a := range ev.Attributes {
				texts = append(texts, a.Value.Emit())
			}
		}
		for _, text := range texts {
			if strings.Contains(text, balance) {
				t.Errorf("span %s holds the balance: %q", s.Name(), text)
			}
		}
	}
}

// spansOf waits until the span last has ended for the saga workflowID and
// returns the ended spans of that saga's trace.
func spansOf(t *testing.T, rec *tracetest.SpanRecorder, workflowID, last string) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var trace []sdktrace.ReadOnlySpan
		var traceID string
		for _, s := range rec.Ended() {
			for _, a := range s.Attributes() {
				if a.Key == "temporalWorkflowID" && a.Value.AsString() == workflowID {
					traceID = s.SpanContext().TraceID().String()
				}
			}
		}
		done := false
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID().String() == traceID {
				trace = append(trace, s)
				done = done || s.Name() == last
			}
		}
		if done {
			return trace
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s span for %s; recorded %d spans", last, workflowID, len(rec.Ended()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func find(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	t.Fatalf("no span %s in %v", name, names)
	return nil
}

func TestFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		name string
		env  map[string]string
		want tracing.Config
	}{
		{"unset: off", nil, tracing.Config{Service: "svc"}},
		{"base endpoint", map[string]string{tracing.EnvEndpoint: "http://c:4318"},
			tracing.Config{Endpoint: "http://c:4318", Protocol: tracing.ProtocolHTTP, Service: "svc"}},
		{"traces endpoint wins, grpc, service name", map[string]string{
			tracing.EnvEndpoint: "http://c:4318", tracing.EnvTracesEndpoint: "http://t:4317",
			tracing.EnvProtocol: "grpc", tracing.EnvServiceName: "mine",
		}, tracing.Config{Endpoint: "http://t:4317", TracesEndpoint: true, Protocol: "grpc", Service: "mine"}},
		{"exporter none", map[string]string{tracing.EnvEndpoint: "http://c:4318", tracing.EnvTracesExporter: "none"}, tracing.Config{}},
	} {
		if got := tracing.FromEnv(env(c.env), "svc"); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestStartRefusesAnUnknownProtocol(t *testing.T) {
	if _, err := tracing.Start(context.Background(), tracing.Config{Endpoint: "http://c:4318", Protocol: "carrier-pigeon"}); err == nil {
		t.Fatal("an unknown protocol was accepted")
	}
	tr, err := tracing.Start(context.Background(), tracing.Config{})
	if err != nil || tr.ClientInterceptors() != nil {
		t.Fatalf("disabled tracing: %v, %v", tr.ClientInterceptors(), err)
	}
}
