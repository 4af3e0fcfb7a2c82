package faults_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sagaflow/sagaflow/internal/faults"
)

func TestParse(t *testing.T) {
	c, err := faults.Parse("ambiguous=0.1, before=0.02,latency=20ms,seed=7")
	if err != nil {
		t.Fatal(err)
	}
	want := faults.Config{Ambiguous: 0.1, Before: 0.02, MaxLatency: 20 * time.Millisecond, Seed: 7}
	if c != want || !c.Enabled() {
		t.Fatalf("got %+v", c)
	}
	if again, err := faults.Parse(c.String()); err != nil || again != c {
		t.Fatalf("round trip: %+v, %v", again, err)
	}
	if c, err := faults.Parse(""); err != nil || c.Enabled() {
		t.Fatalf("empty spec: %+v, %v", c, err)
	}
	for _, bad := range []string{"ambiguous", "ambiguous=2", "before=-0.1", "latency=fast", "latency=-1s", "seed=x", "chaos=1"} {
		if _, err := faults.Parse(bad); err == nil || !strings.Contains(err.Error(), "fault spec") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// run executes an activity that counts its runs through the fault layer.
func run(t *testing.T, cfg faults.Config) (runs int64, err error, logged int) {
	t.Helper()
	core, logs := observer.New(zap.WarnLevel)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{cfg.Interceptor(zap.New(core), 1)}})
	var count atomic.Int64
	step := func(context.Context) (string, error) { count.Add(1); return "committed", nil }
	env.RegisterActivity(step)
	_, err = env.ExecuteActivity(step)
	return count.Load(), err, logs.FilterMessage(faults.LogMessage).Len()
}

func TestAmbiguousCommitRunsTheActivityThenFails(t *testing.T) {
	runs, err, logged := run(t, faults.Config{Ambiguous: 1})
	var appErr *temporal.ApplicationError
	if runs != 1 || !errors.As(err, &appErr) || appErr.Type() != "INJECTED_FAULT" || appErr.NonRetryable() || logged != 1 {
		t.Fatalf("runs %d, error %v, logged %d", runs, err, logged)
	}
	if !strings.Contains(err.Error(), faults.KindAmbiguous) {
		t.Fatalf("error %v should name the fault", err)
	}
}

func TestFailureBeforeCommitDoesNotRunTheActivity(t *testing.T) {
	runs, err, logged := run(t, faults.Config{Before: 1})
	if runs != 0 || err == nil || !strings.Contains(err.Error(), faults.KindBefore) || logged != 1 {
		t.Fatalf("runs %d, error %v, logged %d", runs, err, logged)
	}
}

func TestDisabledLayerChangesNothing(t *testing.T) {
	runs, err, logged := run(t, faults.Config{})
	if runs != 1 || err != nil || logged != 0 {
		t.Fatalf("runs %d, error %v, logged %d", runs, err, logged)
	}
}
