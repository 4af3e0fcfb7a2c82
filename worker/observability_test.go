package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/observability/tracing"
)

func TestMetricsEndpointFromTheFlag(t *testing.T) {
	ctx := context.Background()
	o, err := startObservability(ctx, "127.0.0.1:0", tracing.Config{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if o.dialOptions(0).MetricsHandler == nil || len(o.workerInterceptors()) != 2 {
		t.Fatalf("metrics on, but the client has no handler or the workers no step timer")
	}
	// The SDK's handler feeds the endpoint.
	o.dialOptions(0).MetricsHandler.Counter("sagaflow_probe").Inc(1)
	resp, err := http.Get(o.server.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "sagaflow_probe_total 1") {
		t.Fatalf("GET %s: no sagaflow_probe_total 1 in\n%s", o.server.URL(), body)
	}

	// A second worker on the same address is refused at once.
	if _, err := startObservability(ctx, o.server.Addr(), tracing.Config{}, zap.NewNop()); err == nil ||
		!strings.Contains(err.Error(), metricsFlag) {
		t.Fatalf("second endpoint on %s: %v, want an error naming %s", o.server.Addr(), err, metricsFlag)
	}
}

func TestMetricsOff(t *testing.T) {
	for _, listen := range []string{"", metricsOff} {
		o, err := startObservability(context.Background(), listen, tracing.Config{}, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		if o.server != nil || o.dialOptions(0).MetricsHandler != nil || len(o.workerInterceptors()) != 1 {
			t.Errorf("--metrics-listen %q: metrics still on", listen)
		}
		o.close()
	}
}

func TestMetricsListenFromEnvironment(t *testing.T) {
	env := map[string]string{"SAGAFLOW_METRICS_LISTEN": "127.0.0.1:9999"}
	cmd := command(config.Config{}, func(k string) string { return env[k] })
	if got := cmd.Flags().Lookup("metrics-listen").DefValue; got != "127.0.0.1:9999" {
		t.Errorf("--metrics-listen default %q, want the environment's", got)
	}
	cmd = command(config.Config{}, func(string) string { return "" })
	if got := cmd.Flags().Lookup("metrics-listen").DefValue; got != defaultMetricsListen {
		t.Errorf("--metrics-listen default %q, want %s", got, defaultMetricsListen)
	}
}
