package saga_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// journal records the order in which compensations ran.
type journal struct {
	mu      sync.Mutex
	entries []string
	// failures[name] is how many times the named compensation fails
	// (retryably) before it succeeds; -1 fails for good.
	failures map[string]int
}

func (j *journal) Undo(_ context.Context, name string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch n := j.failures[name]; {
	case n < 0:
		j.entries = append(j.entries, name+":refused")
		return temporal.NewNonRetryableApplicationError(name+" refused", "REFUSED", nil)
	case n > 0:
		j.failures[name] = n - 1
		j.entries = append(j.entries, name+":error")
		return errors.New(name + " unavailable")
	}
	j.entries = append(j.entries, name)
	return nil
}

// params configure the test workflow.
type params struct {
	Steps       []string
	Parallel    bool
	StopOnError bool
	// WaitForCancel blocks after registering the compensations until the
	// workflow is cancelled.
	WaitForCancel bool
}

// result is what the test workflow returns: the error text of Compensate
// and the events the observer saw.
type result struct {
	CompensateError string
	// Failed lists the compensations Compensate's *CompensationError names.
	Failed []string
	Events []string
}

func compensatingWorkflow(ctx workflow.Context, p params) (result, error) {
	var res result
	var j *journal
	s := saga.New(ctx, saga.Options{
		Parallel: p.Parallel, StopOnError: p.StopOnError,
		ActivityOptions: workflow.ActivityOptions{
			StartToCloseTimeout: time.Second,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		},
		Observer: func(e saga.Event) { res.Events = append(res.Events, e.Name+":"+e.Kind.String()) },
	})
	for _, name := range p.Steps {
		s.Add(name, j.Undo, name)
	}
	if p.WaitForCancel {
		_ = workflow.Sleep(ctx, time.Hour) // returns when cancelled
	}
	if err := s.Compensate(); err != nil {
		res.CompensateError = err.Error()
		var cerr *saga.CompensationError
		if !errors.As(err, &cerr) {
			return res, fmt.Errorf("Compensate returned %T, want *saga.CompensationError", err)
		}
		res.Failed = cerr.Names()
	}
	if err := s.Compensate(); err != nil { // a second call does nothing
		res.CompensateError += " / second call: " + err.Error()
	}
	return res, nil
}

func runSaga(t *testing.T, j *journal, p params, during func(*testsuite.TestWorkflowEnvironment)) result {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkflowRunTimeout(runTimeout) // a saga that retries without end fails
	env.RegisterWorkflow(compensatingWorkflow)
	env.RegisterActivity(j)
	if during != nil {
		during(env)
	}
	env.ExecuteWorkflow(compensatingWorkflow, p)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	return res
}

func TestCompensatesInReverseOrder(t *testing.T) {
	j := &journal{}
	res := runSaga(t, j, params{Steps: []string{"a", "b", "c"}}, nil)
	if got := strings.Join(j.entries, ","); got != "c,b,a" {
		t.Fatalf("ran %s, want c,b,a", got)
	}
	if res.CompensateError != "" {
		t.Fatal(res.CompensateError)
	}
	want := "c:started,c:compensated,b:started,b:compensated,a:started,a:compensated"
	if got := strings.Join(res.Events, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

func TestRetriesACompensationUntilItSucceeds(t *testing.T) {
	j := &journal{failures: map[string]int{"b": 2}}
	res := runSaga(t, j, params{Steps: []string{"a", "b", "c"}}, nil)
	if got := strings.Join(j.entries, ","); got != "c,b:error,b:error,b,a" {
		t.Fatalf("ran %s", got)
	}
	if res.CompensateError != "" {
		t.Fatal(res.CompensateError)
	}
	// The first round (one attempt here) fails and is reported once; the
	// server's retries that follow are one more round, whatever their
	// number of attempts.
	want := "c:started,c:compensated,b:started,b:retrying,b:started,b:compensated,a:started,a:compensated"
	if got := strings.Join(res.Events, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
}

func TestContinuesPastAFailedCompensationByDefault(t *testing.T) {
	j := &journal{failures: map[string]int{"b": -1}}
	res := runSaga(t, j, params{Steps: []string{"a", "b", "c"}}, nil)
	if got := strings.Join(j.entries, ","); got != "c,b:refused,a" {
		t.Fatalf("ran %s", got)
	}
	if !slices.Equal(res.Failed, []string{"b"}) || !strings.Contains(res.CompensateError, "b refused") || strings.Contains(res.CompensateError, "second call") {
		t.Fatalf("failed %v, error %q", res.Failed, res.CompensateError)
	}
}

func TestStopOnErrorStopsAtTheFirstFailure(t *testing.T) {
	j := &journal{failures: map[string]int{"b": -1}}
	res := runSaga(t, j, params{Steps: []string{"a", "b", "c"}, StopOnError: true}, nil)
	if got := strings.Join(j.entries, ","); got != "c,b:refused" {
		t.Fatalf("ran %s", got)
	}
	if !slices.Equal(res.Failed, []string{"b"}) {
		t.Fatalf("failed %v, error %q", res.Failed, res.CompensateError)
	}
}

func TestParallelRunsEveryCompensation(t *testing.T) {
	j := &journal{failures: map[string]int{"a": 1, "c": -1}}
	res := runSaga(t, j, params{Steps: []string{"a", "b", "c"}, Parallel: true}, nil)
	got := map[string]bool{}
	for _, e := range j.entries {
		got[e] = true
	}
	for _, want := range []string{"a:error", "a", "b", "c:refused"} {
		if !got[want] {
			t.Errorf("missing %s in %v", want, j.entries)
		}
	}
	if !slices.Equal(res.Failed, []string{"c"}) {
		t.Fatalf("failed %v, error %q", res.Failed, res.CompensateError)
	}
}

func TestCompensatesACancelledWorkflow(t *testing.T) {
	j := &journal{}
	res := runSaga(t, j, params{Steps: []string{"a", "b"}, WaitForCancel: true}, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	})
	if got := strings.Join(j.entries, ","); got != "b,a" {
		t.Fatalf("ran %q after cancellation, want b,a", got)
	}
	if res.CompensateError != "" {
		t.Fatal(res.CompensateError)
	}
}
