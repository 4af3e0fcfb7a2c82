package saga_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// runTimeout bounds every probe test's workflow, on the test clock.
const runTimeout = 24 * time.Hour

// attempt is one attempt of a probe activity.
type attempt struct {
	Name string
	// Since is how long after the workflow's start it started, on the
	// test clock.
	Since time.Duration
	Info  activity.Info
}

// probe is the activity "Undo" of the probe tests: it records every
// attempt (when, and the options it ran with) and fails as the test's
// script says. The activity "Slow" does the same after an hour.
type probe struct {
	env *testsuite.TestWorkflowEnvironment
	// start is when the workflow starts, on the test clock (which starts
	// at the wall clock's now: local activities mix the two).
	start time.Time
	mu    sync.Mutex
	log   []attempt
	// script returns the error of an attempt of name (nil: it succeeds),
	// given when it runs and how many attempts of name ran before it.
	script func(name string, since time.Duration, before int) error
}

// runaway is more attempts of one activity than any probe test makes. A
// bug that runs an activity again at once, without end, never moves the
// test clock to the run timeout: the probe stops the test binary instead
// of letting it hang.
const runaway = 1000

func (p *probe) undo(ctx context.Context, name string) error {
	since := p.env.Now().Sub(p.start)
	p.mu.Lock()
	before := len(p.of(name))
	if before >= runaway {
		fmt.Fprintf(os.Stderr, "FAIL: %s attempted %d times: the workflow retries without end\n", name, before)
		os.Exit(1)
	}
	p.log = append(p.log, attempt{Name: name, Since: since, Info: activity.GetInfo(ctx)})
	script := p.script
	p.mu.Unlock()
	if script == nil {
		return nil
	}
	return script(name, since, before)
}

// of returns the attempts of name, in order; p.mu must be held.
func (p *probe) of(name string) []attempt {
	var out []attempt
	for _, a := range p.log {
		if a.Name == name {
			out = append(out, a)
		}
	}
	return out
}

// attempts returns the attempts of name, in order.
func (p *probe) attempts(name string) []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.of(name)
}

// names returns the name of every attempt, in order.
func (p *probe) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.log))
	for i, a := range p.log {
		out[i] = a.Name
	}
	return out
}

// unavailable is a retryable failure; refused one that is not.
func unavailable(name string) error {
	return temporal.NewApplicationError(name+" unavailable", "UNAVAILABLE")
}

func refused(name string) error {
	return temporal.NewNonRetryableApplicationError(name+" refused", "REFUSED", nil)
}

// newProbeEnv returns a test environment that runs for up to
// runTimeout, with the probe
// registered as "Undo", and as "Slow", which takes an hour per attempt.
func newProbeEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *probe) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	// A bug that retries without end fails the test instead of hanging it.
	env.SetWorkflowRunTimeout(runTimeout)
	p := &probe{env: env, start: env.Now()}
	env.RegisterActivityWithOptions(p.undo, activity.RegisterOptions{Name: "Undo"})
	env.RegisterActivityWithOptions(p.undo, activity.RegisterOptions{Name: "Slow"})
	env.OnActivity("Slow", mock.Anything, mock.Anything).After(time.Hour).Return(p.undo)
	return env, p
}

// execute runs wf to its end in env and returns its error.
func execute(t *testing.T, env *testsuite.TestWorkflowEnvironment, wf func(workflow.Context) error) error {
	t.Helper()
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "probe"})
	return finish(t, env)
}

// finish runs the workflow registered as "probe" to its end and returns its
// error.
func finish(t *testing.T, env *testsuite.TestWorkflowEnvironment) error {
	t.Helper()
	env.ExecuteWorkflow("probe")
	if !env.IsWorkflowCompleted() {
		t.Fatal("the workflow did not complete")
	}
	return env.GetWorkflowError()
}

// trace records the Observer's events as "name:kind:round".
type trace struct{ events []string }

func (tr *trace) observe(e saga.Event) {
	tr.events = append(tr.events, fmt.Sprintf("%s:%s:%d", e.Name, e.Kind, e.Round))
}

// gaps returns the waits between consecutive attempts.
func gaps(attempts []attempt) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(attempts); i++ {
		out = append(out, attempts[i].Since-attempts[i-1].Since)
	}
	return out
}

func sinces(attempts []attempt) []time.Duration {
	out := make([]time.Duration, len(attempts))
	for i, a := range attempts {
		out[i] = a.Since
	}
	return out
}
