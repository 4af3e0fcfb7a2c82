package metrics

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/sagaflow/sagaflow/activities"
)

// StepDuration names the step latency histogram, served as
// sagaflow_step_duration_seconds{step, outcome}.
const StepDuration = "sagaflow_step_duration"

// The outcomes of a step attempt, as the outcome label says them.
const (
	OutcomeSuccess        = "success"
	OutcomeBusinessError  = "business_error"
	OutcomeInfrastructure = "infrastructure_error"
)

// Outcome classifies what an activity returned: success, a business
// refusal (activities.IsBusinessFailure), or an infrastructure error, which
// Temporal retries.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeSuccess
	case activities.IsBusinessFailure(err):
		return OutcomeBusinessError
	default:
		return OutcomeInfrastructure
	}
}

// StepInterceptor returns the worker interceptor that times every activity
// attempt into the step histogram, labelled by step (the activity type) and
// outcome. Put it after the interceptors whose time should count, such as
// the fault layer: an injected fault is an infrastructure error.
func (m *Metrics) StepInterceptor() interceptor.WorkerInterceptor {
	return &stepInterceptor{steps: m.steps}
}

type stepInterceptor struct {
	interceptor.WorkerInterceptorBase
	steps metric.Float64Histogram
}

func (s *stepInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &stepTimer{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, steps: s.steps}
}

type stepTimer struct {
	interceptor.ActivityInboundInterceptorBase
	steps metric.Float64Histogram
}

func (t *stepTimer) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	start := time.Now()
	result, err := t.Next.ExecuteActivity(ctx, in)
	t.steps.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(), metric.WithAttributes(
		attribute.String("step", activity.GetInfo(ctx).ActivityType.Name),
		attribute.String("outcome", Outcome(err)),
	))
	return result, err
}
