package saga_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// An error whose type the retry policy lists in NonRetryableErrorTypes ends
// the compensation for good, in its first round or in the server's retries.
func TestNonRetryableErrorTypesEndACompensation(t *testing.T) {
	gone := func(name string) error { return temporal.NewApplicationError(name+" is gone", "GONE") }
	cases := []struct {
		name   string
		script func(name string, before int) error
		want   []string
	}{
		{"in the first round", func(name string, _ int) error { return gone(name) },
			[]string{"a:started:1", "a:failed:1"}},
		{"in the server's retries", func(name string, before int) error {
			if before < 3 {
				return unavailable(name)
			}
			return gone(name)
		}, []string{"a:started:1", "a:retrying:1", "a:started:2", "a:failed:2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, p := newProbeEnv(t)
			p.script = func(name string, _ time.Duration, before int) error { return c.script(name, before) }
			tr := &trace{}
			var cerr *saga.CompensationError
			err := execute(t, env, func(ctx workflow.Context) error {
				s := saga.New(ctx, saga.Options{Observer: tr.observe, ActivityOptions: workflow.ActivityOptions{
					StartToCloseTimeout: time.Second,
					RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{"GONE"}},
				}})
				_ = s.Add("a", "Undo", "a")
				if err := s.Compensate(); !errors.As(err, &cerr) {
					return fmt.Errorf("Compensate returned %v, want a *CompensationError", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var appErr *temporal.ApplicationError
			if !slices.Equal(cerr.Names(), []string{"a"}) || !errors.As(cerr, &appErr) || appErr.Type() != "GONE" {
				t.Fatalf("failures %v (%v), want a, GONE", cerr.Names(), cerr)
			}
			if !slices.Equal(tr.events, c.want) {
				t.Fatalf("events %v, want %v", tr.events, c.want)
			}
		})
	}
}

// A local first round ends for good at a non-retryable error, or one of a
// type its policy lists, without OnFailing; so does the server's retries.
func TestPersistentEndsForGoodAtAFinalError(t *testing.T) {
	gone := temporal.NewApplicationError("gone", "GONE")
	cases := []struct {
		name     string
		script   func(before int) error
		attempts int
		failing  int
	}{
		{"listed type, first round", func(int) error { return gone }, 1, 0},
		{"non-retryable, first round", func(int) error { return refused("p") }, 1, 0},
		{"listed type, server's retries", func(before int) error {
			if before < 2 {
				return unavailable("p")
			}
			return gone
		}, 3, 1},
		{"non-retryable, server's retries", func(before int) error {
			if before < 2 {
				return unavailable("p")
			}
			return refused("p")
		}, 3, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, p := newProbeEnv(t)
			p.script = func(_ string, _ time.Duration, before int) error { return c.script(before) }
			failing := 0
			pc := &saga.Persistent{Name: "p", Local: true, OnFailing: func(int, error) { failing++ }, Options: workflow.ActivityOptions{
				StartToCloseTimeout: time.Second,
				RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2, NonRetryableErrorTypes: []string{"GONE"}},
			}}
			var runErr error
			err := execute(t, env, func(ctx workflow.Context) error {
				fut, err := pc.Run(ctx, "Undo", "p")
				if err == nil {
					return errors.New("Run succeeded")
				}
				if fut != nil && fut.Get(ctx, nil) == nil {
					return errors.New("the future of a failed run succeeded")
				}
				runErr = err
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(p.names()); n != c.attempts || failing != c.failing {
				t.Fatalf("%d attempts, OnFailing %d times (%v); want %d, %d", n, failing, runErr, c.attempts, c.failing)
			}
		})
	}
}

// An operator runs a failing compensation again at once (RetryNow), or
// declares it done by hand (Resolve); the actions that do not apply are
// refused with ErrNotFailing; Progress and Failing say where each stands.
func TestRetryNowAndResolve(t *testing.T) {
	env, p := newProbeEnv(t)
	fixed := false
	p.script = func(name string, _ time.Duration, _ int) error {
		if name == "a" || (name == "b" && !fixed) {
			return unavailable(name)
		}
		return nil
	}
	tr := &trace{}
	var resolvedBy, resolvedWhy string
	results := map[string]error{}
	act := func(key, update, name string) {
		env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { results[key] = fmt.Errorf("rejected: %w", err) },
			OnComplete: func(_ any, err error) { results[key] = err },
		}, name)
	}
	progress := func() map[string]saga.Progress {
		v, err := env.QueryWorkflow("progress")
		var out map[string]saga.Progress
		if err == nil {
			err = v.Get(&out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var at10, at20, end map[string]saga.Progress
	env.RegisterDelayedCallback(func() {
		at10 = progress()
		act("retry pending a", "retry", "a")
		act("retry done c", "retry", "c")
		act("resolve done c", "resolve", "c")
		act("retry unknown", "retry", "zz")
		act("resolve unknown", "resolve", "zz")
		fixed = true
		act("retry b", "retry", "b")
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		at20 = progress()
		act("resolve a", "resolve", "a")
		act("retry a being resolved", "retry", "a")
	}, 20*time.Minute)
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt, RetryBackoff: time.Hour, MaxRetryBackoff: time.Hour,
			Observer: func(e saga.Event) {
				tr.observe(e)
				if e.Kind == saga.Resolved {
					resolvedBy, resolvedWhy = e.By, e.Reason
				}
			}})
		for _, n := range []string{"a", "b", "c"} {
			_ = s.Add(n, "Undo", n)
		}
		if err := workflow.SetUpdateHandler(ctx, "retry", func(_ workflow.Context, name string) error { return s.RetryNow(name) }); err != nil {
			return err
		}
		if err := workflow.SetUpdateHandler(ctx, "resolve", func(_ workflow.Context, name string) error {
			return s.Resolve(name, "ada", "released by hand")
		}); err != nil {
			return err
		}
		if err := workflow.SetQueryHandler(ctx, "progress", func() (map[string]saga.Progress, error) {
			out := map[string]saga.Progress{}
			for _, n := range s.Names() {
				pr, err := s.Progress(n)
				if err != nil {
					return nil, err
				}
				out[n] = pr
			}
			if _, err := s.Progress("zz"); err == nil {
				return nil, errors.New("Progress of an unknown compensation succeeded")
			}
			if f := s.Failing(); len(f) > 0 {
				out["failing:"+strings.Join(f, ",")] = saga.Progress{}
			}
			return out, nil
		}); err != nil {
			return err
		}
		err := s.Compensate()
		if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil {
			return werr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	end = progress()

	want := map[string]saga.Progress{
		"c": {State: saga.Done, Round: 1}, "b": {State: saga.FailingState, Round: 2}, "a": {State: saga.Pending},
		"failing:b": {},
	}
	if !mapsEqual(at10, want) {
		t.Errorf("at 10m: %v, want %v", at10, want)
	}
	want = map[string]saga.Progress{
		"c": {State: saga.Done, Round: 1}, "b": {State: saga.Done, Round: 3}, "a": {State: saga.FailingState, Round: 2},
		"failing:a": {},
	}
	if !mapsEqual(at20, want) {
		t.Errorf("at 20m: %v, want %v", at20, want)
	}
	want = map[string]saga.Progress{"c": {State: saga.Done, Round: 1}, "b": {State: saga.Done, Round: 3}, "a": {State: saga.ResolvedState, Round: 2}}
	if !mapsEqual(end, want) {
		t.Errorf("at the end: %v, want %v", end, want)
	}
	for key, err := range results {
		switch key {
		case "retry b", "resolve a":
			if err != nil {
				t.Errorf("%s: %v", key, err)
			}
		case "retry unknown", "resolve unknown":
			if err == nil || errors.Is(err, saga.ErrNotFailing) || !strings.Contains(err.Error(), "zz") {
				t.Errorf("%s: %v, want an error naming zz", key, err)
			}
		default:
			if !errors.Is(err, saga.ErrNotFailing) {
				t.Errorf("%s: %v, want ErrNotFailing", key, err)
			}
		}
	}
	if len(results) != 8 {
		t.Errorf("%d actions answered, want 8: %v", len(results), results)
	}
	wantEvents := []string{"c:started:1", "c:compensated:1", "b:started:1", "b:retrying:1", "b:started:2", "b:started:3", "b:compensated:3",
		"a:started:1", "a:retrying:1", "a:started:2", "a:resolved:2"}
	if !slices.Equal(tr.events, wantEvents) {
		t.Errorf("events %v, want %v", tr.events, wantEvents)
	}
	if resolvedBy != "ada" || resolvedWhy != "released by hand" {
		t.Errorf("resolved by %q: %q", resolvedBy, resolvedWhy)
	}
	// b ran again when the operator asked, not an hour later.
	if b := p.attempts("b"); b[len(b)-1].Since != 10*time.Minute {
		t.Errorf("b's last attempt at %s, want at 10m", b[len(b)-1].Since)
	}
}

func mapsEqual(a, b map[string]saga.Progress) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Abort returns the step's error when every compensation succeeded, and
// otherwise a non-retryable CompensationFailed error that keeps the step's
// error as its cause and names the compensations that failed.
func TestAbortNamesTheFailedCompensations(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, _ time.Duration, _ int) error {
		if name == "b" {
			return refused(name)
		}
		return nil
	}
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt})
		for _, n := range []string{"a", "b", "c"} {
			_ = s.Add(n, "Undo", n)
		}
		return s.Abort(temporal.NewNonRetryableApplicationError("no cars left", "SOLD_OUT", nil))
	})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != saga.CompensationFailedType || !appErr.NonRetryable() {
		t.Fatalf("error %v, want a non-retryable %s", err, saga.CompensationFailedType)
	}
	var names []string
	if derr := appErr.Details(&names); derr != nil || !slices.Equal(names, []string{"b"}) {
		t.Fatalf("details %v (%v), want [b]", names, derr)
	}
	var cause *temporal.ApplicationError
	if !errors.As(appErr.Unwrap(), &cause) || cause.Type() != "SOLD_OUT" {
		t.Fatalf("cause %v, want the step's SOLD_OUT", appErr.Unwrap())
	}
	if msg := appErr.Message(); !strings.Contains(msg, "no cars left") || !strings.Contains(msg, "b: ") || !strings.Contains(msg, "b refused") {
		t.Fatalf("message %q: want the step's error and b's", msg)
	}
	if got := strings.Join(p.names(), ","); got != "c,b,a" {
		t.Fatalf("ran %s, want c,b,a", got)
	}
}

func TestCompensationErrorListsEveryFailure(t *testing.T) {
	errB, errC := errors.New("b down"), temporal.NewApplicationError("c gone", "GONE")
	cerr := &saga.CompensationError{Failures: []saga.CompensationFailure{{Name: "c", Err: errC}, {Name: "b", Err: errB}}}
	if got, want := cerr.Error(), "compensation failed: c: "+errC.Error()+"; b: b down"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !slices.Equal(cerr.Names(), []string{"c", "b"}) {
		t.Errorf("Names() = %v", cerr.Names())
	}
	var appErr *temporal.ApplicationError
	if !errors.Is(cerr, errB) || !errors.As(cerr, &appErr) || appErr.Type() != "GONE" {
		t.Errorf("errors.Is/As do not reach the failures' errors")
	}
}

// A compensation added once Compensate ran would never run: Add refuses it.
func TestAddAfterCompensateIsRefused(t *testing.T) {
	env, p := newProbeEnv(t)
	var addErr error
	var names []string
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt})
		_ = s.Add("a", "Undo", "a")
		if err := s.Compensate(); err != nil {
			return err
		}
		addErr = s.AddWithOptions("b", saga.CompensationOptions{Summary: "undo b"}, "Undo", "b")
		names = s.Names()
		return s.Compensate()
	})
	if err != nil || !errors.Is(addErr, saga.ErrCompensated) || !slices.Equal(names, []string{"a"}) || !slices.Equal(p.names(), []string{"a"}) {
		t.Fatalf("error %v, Add: %v, names %v, ran %v; want Add refused and only a run, once", err, addErr, names, p.names())
	}
}

// CompensationOptions.ActivityOptions replace the saga's for one
// compensation, with the same defaults for their zero fields.
func TestPerCompensationActivityOptions(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, _ time.Duration, before int) error {
		if name == "b" && before < 4 {
			return unavailable(name)
		}
		return nil
	}
	tr := &trace{}
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt, Observer: tr.observe})
		_ = s.Add("a", "Undo", "a")
		_ = s.AddWithOptions("b", saga.CompensationOptions{ActivityOptions: &workflow.ActivityOptions{TaskQueue: "undo", StartToCloseTimeout: 7 * time.Second}}, "Undo", "b")
		_ = s.AddWithOptions("c", saga.CompensationOptions{ActivityOptions: &workflow.ActivityOptions{ScheduleToCloseTimeout: 2 * time.Minute}}, "Undo", "c")
		return s.Compensate()
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := p.attempts("a"), p.attempts("b"), p.attempts("c")
	if c[0].Info.StartToCloseTimeout != 2*time.Minute || c[0].Info.ScheduleToCloseTimeout != 2*time.Minute {
		t.Errorf("c: start-to-close %s, schedule-to-close %s; want 2m for both", c[0].Info.StartToCloseTimeout, c[0].Info.ScheduleToCloseTimeout)
	}
	if b[0].Info.TaskQueue != "undo" || b[0].Info.StartToCloseTimeout != 7*time.Second {
		t.Errorf("b: task queue %q, start-to-close %s; want undo, 7s", b[0].Info.TaskQueue, b[0].Info.StartToCloseTimeout)
	}
	if a[0].Info.TaskQueue == "undo" || a[0].Info.StartToCloseTimeout != 5*time.Second {
		t.Errorf("a: task queue %q, start-to-close %s; want the saga's options", a[0].Info.TaskQueue, a[0].Info.StartToCloseTimeout)
	}
	// b's own options have no retry policy: the default one, 3 attempts.
	want := []string{"c:started:1", "c:compensated:1", "b:started:1", "b:retrying:1", "b:started:2", "b:compensated:2", "a:started:1", "a:compensated:1"}
	if !slices.Equal(tr.events, want) || len(b) != 5 || b[2].Info.Attempt != 3 {
		t.Errorf("events %v, %d attempts of b; want %v, 5", tr.events, len(b), want)
	}
}

func TestKindAndStateNames(t *testing.T) {
	kinds := map[saga.EventKind]string{saga.Started: "started", saga.Retrying: "retrying", saga.Failed: "failed",
		saga.Compensated: "compensated", saga.Resolved: "resolved", 0: "unknown"}
	for k, want := range kinds {
		if k.String() != want {
			t.Errorf("EventKind(%d) = %q, want %q", int(k), k.String(), want)
		}
	}
	var zero saga.Event
	if zero.Kind.String() != "unknown" {
		t.Errorf("a zero Event's kind is %q, want unknown", zero.Kind)
	}
	states := map[saga.State]string{saga.Pending: "pending", saga.Running: "running", saga.FailingState: "failing",
		saga.Done: "done", saga.FailedState: "failed", saga.ResolvedState: "resolved"}
	for s, want := range states {
		if s.String() != want {
			t.Errorf("State(%d) = %q, want %q", int(s), s.String(), want)
		}
	}
}

// A cancellation that arrives while the saga compensates does not stop it:
// the running compensation finishes and the next ones run.
func TestCancellationDuringCompensationIsIgnored(t *testing.T) {
	env, p := newProbeEnv(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	tr := &trace{}
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt, Observer: tr.observe})
		_ = s.Add("a", "Undo", "a")
		_ = s.Add("b", "Slow", "b")
		return s.Compensate()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b:started:1", "b:compensated:1", "a:started:1", "a:compensated:1"}; !slices.Equal(tr.events, want) {
		t.Fatalf("events %v, want %v", tr.events, want)
	}
	if a := p.attempts("a"); len(a) != 1 || a[0].Since != time.Hour {
		t.Fatalf("a ran %v, want once, after b's hour", sinces(a))
	}
}

// Parallel compensations run at once: three of an hour each take an hour.
func TestParallelCompensationsRunAtOnce(t *testing.T) {
	env, p := newProbeEnv(t)
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt, Parallel: true})
		for _, n := range []string{"a", "b", "c"} {
			_ = s.Add(n, "Slow", n)
		}
		return s.Compensate()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if at := p.attempts(n); len(at) != 1 || at[0].Since != time.Hour {
			t.Errorf("%s ended at %v, want once, after an hour", n, sinces(at))
		}
	}
}

// A saga recorded before the server's retries keeps its former rounds: a
// workflow timer between rounds of the first round's attempts, RetryBackoff
// doubling up to MaxRetryBackoff; the first round that fails on the current
// code switches to the server's retries.
func TestHistoriesOfEarlierBuildsKeepTheirTimerRounds(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, _ time.Duration, before int) error {
		if before < 9 {
			return unavailable(name)
		}
		return nil
	}
	tr := &trace{}
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{Observer: tr.observe, RetryBackoff: 10 * time.Second, MaxRetryBackoff: 30 * time.Second,
			ActivityOptions: workflow.ActivityOptions{StartToCloseTimeout: time.Second, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 2}}})
		_ = s.Add("a", "Undo", "a")
		return s.Compensate()
	}, workflow.RegisterOptions{Name: "probe"})
	for round := 1; round <= 3; round++ {
		env.OnGetVersion(fmt.Sprintf("saga-server-retries-a-%d", round), workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	}
	err := finish(t, env)
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	// Rounds of two attempts 1s apart at 0, 11s, 32s, 63s (waits of 10s,
	// 20s, 30s); round 4 fails on the current code: the server retries it
	// at once and 10s later.
	want := []time.Duration{0, 1 * s, 11 * s, 12 * s, 32 * s, 33 * s, 63 * s, 64 * s, 64 * s, 74 * s}
	if got := sinces(p.attempts("a")); !slices.Equal(got, want) {
		t.Fatalf("attempts at %v, want %v", got, want)
	}
	wantEvents := []string{"a:started:1", "a:retrying:1", "a:started:2", "a:retrying:2", "a:started:3", "a:retrying:3",
		"a:started:4", "a:retrying:4", "a:started:5", "a:compensated:5"}
	if !slices.Equal(tr.events, wantEvents) {
		t.Fatalf("events %v, want %v", tr.events, wantEvents)
	}
}
