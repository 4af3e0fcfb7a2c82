// Package faults is the worker's fault layer for fault-injection runs. It is
// a Temporal activity interceptor, inert unless switched on: with given
// probabilities it fails an activity before it runs, lets it run and commit
// and then reports an error as if the acknowledgement was lost (an
// ambiguous commit), and adds latency. Temporal retries the failed
// attempts; the idempotency barrier must make every one of them harmless.
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
)

// Config says which faults to inject. The zero value injects none.
type Config struct {
	// Ambiguous is the probability that an activity that succeeded (its
	// write committed) reports an error instead.
	Ambiguous float64
	// Before is the probability that an activity fails before it runs.
	Before float64
	// MaxLatency bounds the latency added before each activity (uniform
	// from 0); 0 adds none.
	MaxLatency time.Duration
	// Seed seeds the random choices.
	Seed uint64
}

// Enabled reports whether c injects anything.
func (c Config) Enabled() bool { return c.Ambiguous > 0 || c.Before > 0 || c.MaxLatency > 0 }

// String renders c in the form Parse reads.
func (c Config) String() string {
	return fmt.Sprintf("ambiguous=%g,before=%g,latency=%s,seed=%d", c.Ambiguous, c.Before, c.MaxLatency, c.Seed)
}

// Parse reads a spec such as "ambiguous=0.1,before=0.02,latency=20ms,seed=7".
// An empty spec is the zero Config.
func Parse(spec string) (Config, error) {
	var c Config
	if strings.TrimSpace(spec) == "" {
		return c, nil
	}
	for _, part := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Config{}, fmt.Errorf("fault spec %q: %q is not key=value", spec, part)
		}
		var err error
		switch key {
		case "ambiguous":
			c.Ambiguous, err = probability(value)
		case "before":
			c.Before, err = probability(value)
		case "latency":
			c.MaxLatency, err = time.ParseDuration(value)
			if err == nil && c.MaxLatency < 0 {
				err = fmt.Errorf("negative")
			}
		case "seed":
			c.Seed, err = strconv.ParseUint(value, 10, 64)
		default:
			return Config{}, fmt.Errorf("fault spec %q: unknown key %q (want ambiguous, before, latency, seed)", spec, key)
		}
		if err != nil {
			return Config{}, fmt.Errorf("fault spec %q: %s=%s: %w", spec, key, value, err)
		}
	}
	return c, nil
}

func probability(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if p < 0 || p > 1 {
		return 0, fmt.Errorf("want a probability from 0 to 1")
	}
	return p, nil
}

// The kinds of injected fault, as logged.
const (
	KindAmbiguous = "ambiguous-commit"
	KindBefore    = "failure-before-commit"
)

// LogMessage is the message of the log line written for every injected
// fault; fault-injection runs count these lines.
const LogMessage = "fault injected"

// Interceptor returns the worker interceptor that injects c's faults,
// logging each to log. instance distinguishes workers sharing a seed.
func (c Config) Interceptor(log *zap.Logger, instance uint64) interceptor.WorkerInterceptor {
	return &workerInterceptor{cfg: c, log: log, rng: rand.New(rand.NewPCG(c.Seed, instance))}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	cfg Config
	log *zap.Logger
	mu  sync.Mutex
	rng *rand.Rand
}

func (w *workerInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInterceptor{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, w: w}
}

// draw returns a uniform number in [0, 1) and a latency for one activity.
func (w *workerInterceptor) draw() (before, ambiguous float64, latency time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before, ambiguous = w.rng.Float64(), w.rng.Float64()
	if w.cfg.MaxLatency > 0 {
		latency = time.Duration(w.rng.Int64N(int64(w.cfg.MaxLatency)))
	}
	return before, ambiguous, latency
}

type activityInterceptor struct {
	interceptor.ActivityInboundInterceptorBase
	w *workerInterceptor
}

func (a *activityInterceptor) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	before, ambiguous, latency := a.w.draw()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if before < a.w.cfg.Before {
		return nil, a.inject(ctx, KindBefore)
	}
	result, err := a.Next.ExecuteActivity(ctx, in)
	if err == nil && ambiguous < a.w.cfg.Ambiguous {
		return nil, a.inject(ctx, KindAmbiguous)
	}
	return result, err
}

// inject logs one fault and returns the retryable error that stands for it.
func (a *activityInterceptor) inject(ctx context.Context, kind string) error {
	info := activity.GetInfo(ctx)
	a.w.log.Warn(LogMessage, zap.String("kind", kind), zap.String("activity", info.ActivityType.Name),
		zap.String("saga_id", info.WorkflowExecution.ID), zap.Int32("attempt", info.Attempt))
	return temporal.NewApplicationError(fmt.Sprintf("injected fault: %s in %s", kind, info.ActivityType.Name), "INJECTED_FAULT")
}
