package saga_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// noDeadline reports whether an activity's ScheduleToCloseTimeout is none:
// the test environment shows none as the workflow's run timeout.
func noDeadline(d time.Duration) bool { return d == 0 || d == runTimeout }

// oneAttempt is a first round of a single attempt, so that the tests see
// the server's retries at once.
var oneAttempt = workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Second, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}}

// With the zero Options a compensation's first round is 3 attempts of up to
// 30s each; when they fail the saga says so (Retrying) and the server
// retries it, a second then two apart.
func TestDefaultFirstRoundIsThreeAttempts(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, _ time.Duration, before int) error {
		if before < 5 {
			return unavailable(name)
		}
		return nil
	}
	tr := &trace{}
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{Observer: tr.observe})
		if err := s.Add("a", "Undo", "a"); err != nil {
			return err
		}
		return s.Compensate()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:started:1", "a:retrying:1", "a:started:2", "a:compensated:2"}; !slices.Equal(tr.events, want) {
		t.Fatalf("events %v, want %v", tr.events, want)
	}
	// Attempts 1 to 3 of the first round (within 3s: the test environment
	// caps their backoff at its InitialInterval, the server would not), then
	// the server's retries, attempts 1 to 3 again, from at once, 1s apart,
	// then 2s.
	at := p.attempts("a")
	if len(at) != 6 || at[2].Since > 3*time.Second || at[3].Since != at[2].Since ||
		at[4].Since-at[3].Since != time.Second || at[5].Since-at[4].Since != 2*time.Second {
		t.Fatalf("attempts at %v: want 3 in the first round, then the server's retries at once, 1s and 2s later", sinces(at))
	}
	for i, a := range at {
		if wantAttempt := int32(i%3 + 1); a.Info.Attempt != wantAttempt || a.Info.StartToCloseTimeout != 30*time.Second {
			t.Errorf("attempt %d: attempt %d, start-to-close %s; want attempt %d, 30s", i+1, a.Info.Attempt, a.Info.StartToCloseTimeout, wantAttempt)
		}
	}
}

// The server's retries start RetryBackoff after the first round failed and
// double up to MaxRetryBackoff, with the first round's StartToCloseTimeout
// and no deadline; however many attempts they take, they are one round.
func TestServerRetriesBackOffUpToMaxRetryBackoff(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, since time.Duration, _ int) error {
		if since < 3*time.Minute {
			return unavailable(name)
		}
		return nil
	}
	tr := &trace{}
	err := execute(t, env, func(ctx workflow.Context) error {
		s := saga.New(ctx, saga.Options{ActivityOptions: oneAttempt, RetryBackoff: 2 * time.Second, MaxRetryBackoff: 10 * time.Second, Observer: tr.observe})
		_ = s.Add("a", "Undo", "a")
		return s.Compensate()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:started:1", "a:retrying:1", "a:started:2", "a:compensated:2"}; !slices.Equal(tr.events, want) {
		t.Fatalf("events %v, want %v", tr.events, want)
	}
	retries := p.attempts("a")[1:]
	g := gaps(retries)
	if len(g) < 5 || g[0] != 2*time.Second || g[1] != 4*time.Second || g[2] != 8*time.Second || slices.Max(g) != 10*time.Second {
		t.Fatalf("waits between the server's retries %v: want 2s, 4s, 8s, then 10s", g)
	}
	if last := retries[len(retries)-1].Since; last < 3*time.Minute || last > 3*time.Minute+10*time.Second {
		t.Fatalf("succeeded at %s, want within 10s of the service's return at 3m", last)
	}
	for i, a := range retries {
		if a.Info.Attempt != int32(i+1) || a.Info.StartToCloseTimeout != 5*time.Second || !noDeadline(a.Info.ScheduleToCloseTimeout) {
			t.Fatalf("retry %d: attempt %d, start-to-close %s, schedule-to-close %s; want %d, 5s, none",
				i+1, a.Info.Attempt, a.Info.StartToCloseTimeout, a.Info.ScheduleToCloseTimeout, i+1)
		}
	}
}

// A Persistent without Backoff and MaxBackoff waits a second, then twice
// as long, up to a minute.
func TestPersistentBacksOffFromASecondToAMinute(t *testing.T) {
	env, p := newProbeEnv(t)
	p.script = func(name string, since time.Duration, _ int) error {
		if since < 20*time.Minute {
			return unavailable(name)
		}
		return nil
	}
	pc := &saga.Persistent{Name: "p", Options: oneAttempt}
	var before int
	err := execute(t, env, func(ctx workflow.Context) error {
		before = pc.Round()
		fut, err := pc.Run(ctx, "Undo", "p")
		if err != nil {
			return err
		}
		return fut.Get(ctx, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	g := gaps(p.attempts("p")[1:])
	if len(g) < 8 || g[0] != time.Second || g[1] != 2*time.Second || slices.Max(g) != time.Minute {
		t.Fatalf("waits %v: want 1s, 2s, ... up to 1m", g)
	}
	if before != 0 || pc.Round() != 2 || pc.Failing() {
		t.Fatalf("rounds: %d before Run, %d after (failing %t); want 0, then 2", before, pc.Round(), pc.Failing())
	}
}

func TestPersistentNeedsARetryPolicy(t *testing.T) {
	env, p := newProbeEnv(t)
	err := execute(t, env, func(ctx workflow.Context) error {
		_, err := (&saga.Persistent{Name: "p", Options: workflow.ActivityOptions{StartToCloseTimeout: time.Second}}).Run(ctx, "Undo", "p")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "retry policy") || len(p.names()) != 0 {
		t.Fatalf("error %v, attempts %v; want a refusal and no attempt", err, p.names())
	}
}

// The pivot's shape: a first round bounded by its ScheduleToCloseTimeout
// (1m), as activities or local activities, then the server's retries as
// activities without a deadline, at most MaxBackoff apart, until it
// succeeds after 3 hours. OnFailing is called once, when the first round
// ends; Failing and Round say where it stands.
func TestPersistentFirstRoundEndsAtItsDeadline(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(map[bool]string{false: "activities", true: "local first round"}[local], func(t *testing.T) {
			env, p := newProbeEnv(t)
			p.script = func(name string, since time.Duration, _ int) error {
				if since < 3*time.Hour {
					return unavailable(name)
				}
				return nil
			}
			var rounds []int
			var failing []time.Duration
			pc := &saga.Persistent{
				Name: "pivot", Local: local, MaxBackoff: time.Minute,
				Options: workflow.ActivityOptions{
					StartToCloseTimeout: 15 * time.Second, ScheduleToCloseTimeout: time.Minute,
					// The deadline bounds the round (the test environment
					// reads MaximumAttempts 0 as 10, the server as no limit).
					RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 1000},
				},
				OnRound: func(r int) { rounds = append(rounds, r) },
			}
			type standing struct {
				Failing bool
				Round   int
			}
			var early, late standing
			query := func(into *standing) func() {
				return func() {
					v, err := env.QueryWorkflow("standing")
					if err == nil {
						err = v.Get(into)
					}
					if err != nil {
						t.Error(err)
					}
				}
			}
			env.RegisterDelayedCallback(query(&early), 30*time.Second)
			env.RegisterDelayedCallback(query(&late), 2*time.Hour)
			err := execute(t, env, func(ctx workflow.Context) error {
				pc.OnFailing = func(round int, err error) {
					if round != 1 || err == nil {
						t.Errorf("OnFailing(%d, %v)", round, err)
					}
					failing = append(failing, workflow.Now(ctx).Sub(p.start))
				}
				if err := workflow.SetQueryHandler(ctx, "standing", func() (standing, error) {
					return standing{pc.Failing(), pc.Round()}, nil
				}); err != nil {
					return err
				}
				fut, err := pc.Run(ctx, "Undo", "pivot")
				if err != nil {
					return err
				}
				return fut.Get(ctx, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(failing) != 1 || failing[0] <= 45*time.Second || failing[0] > time.Minute {
				t.Fatalf("OnFailing called at %v: want once, when the first round's minute ends", failing)
			}
			if early != (standing{false, 1}) || late != (standing{true, 2}) {
				t.Fatalf("at 30s %+v, at 2h %+v; want round 1 not failing, then round 2 failing", early, late)
			}
			// The server's retries are a new activity: their attempts count from 1 again.
			at := p.attempts("pivot")
			split := slices.IndexFunc(at[1:], func(a attempt) bool { return a.Info.Attempt == 1 }) + 1
			if split < 5 {
				t.Fatalf("attempts %+v: want a first round of several attempts, then the server's retries", at)
			}
			first, rest := at[:split], at[split:]
			for _, a := range first {
				if a.Info.IsLocalActivity != local || a.Since > time.Minute || a.Info.ScheduleToCloseTimeout != time.Minute {
					t.Fatalf("first round attempt at %s: local %t, schedule-to-close %s; want local=%t, within the minute, deadline 1m",
						a.Since, a.Info.IsLocalActivity, a.Info.ScheduleToCloseTimeout, local)
				}
			}
			for i, a := range rest {
				if a.Info.IsLocalActivity || !noDeadline(a.Info.ScheduleToCloseTimeout) || a.Info.StartToCloseTimeout != 15*time.Second || a.Info.Attempt != int32(i+1) {
					t.Fatalf("server retry %d: local %t, schedule-to-close %s, start-to-close %s, attempt %d; want an activity without deadline",
						i+1, a.Info.IsLocalActivity, a.Info.ScheduleToCloseTimeout, a.Info.StartToCloseTimeout, a.Info.Attempt)
				}
			}
			if g := gaps(rest); slices.Max(g) != time.Minute {
				t.Fatalf("the server's retries wait up to %s, want 1m", slices.Max(g))
			}
			if last := rest[len(rest)-1].Since; last < 3*time.Hour {
				t.Fatalf("succeeded at %s, before the service came back", last)
			}
			if !slices.Equal(rounds, []int{1, 2}) || pc.Round() != 2 || pc.Failing() {
				t.Fatalf("rounds %v, Round %d, Failing %t; want rounds 1 and 2", rounds, pc.Round(), pc.Failing())
			}
		})
	}
}
