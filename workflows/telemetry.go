package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/saga"
)

// The saga's metrics, emitted through workflow.GetMetricsHandler: nothing is
// emitted while a history replays, and no command is added, so they change
// neither the saga's history nor its determinism. With the worker's
// Prometheus exporter a counter gets the suffix _total
// (sagaflow_saga_started_total); the SDK adds the labels namespace,
// task_queue and workflow_type.
const (
	// MetricSagaStarted counts sagas started.
	MetricSagaStarted = "sagaflow_saga_started"
	// MetricSagaCompleted counts sagas that confirmed their order.
	MetricSagaCompleted = "sagaflow_saga_completed"
	// MetricSagaCompensated counts sagas that compensated (a step failed or
	// the saga was cancelled), by failed_step.
	MetricSagaCompensated = "sagaflow_saga_compensated"
	// MetricSagaCompensatedByHand counts sagas that compensated with at
	// least one compensation resolved by an operator.
	MetricSagaCompensatedByHand = "sagaflow_saga_compensated_by_hand"
	// MetricSagaRejected counts sagas refused before any side effect, by
	// failed_step ("none" for invalid input).
	MetricSagaRejected = "sagaflow_saga_rejected"
	// MetricSagaCompensationFailed counts sagas that ended with a
	// compensation refused for good (an operator must look).
	MetricSagaCompensationFailed = "sagaflow_saga_compensation_failed"
	// MetricCompensationFailures counts failed compensation rounds, by
	// compensation and final: "false" for a round that failed and is
	// retried after a backoff, "true" for a compensation refused for good.
	MetricCompensationFailures = "sagaflow_compensation_failures"
)

// count adds one to the counter name, with tags.
func (t *tracker) count(name string, tags map[string]string) {
	h := workflow.GetMetricsHandler(t.ctx)
	if len(tags) > 0 {
		h = h.WithTags(tags)
	}
	h.Counter(name).Inc(1)
}

// countStatus counts a saga that reached the terminal status s.
func (t *tracker) countStatus(s SagaStatus) {
	failedStep := t.state.FailedStep
	if failedStep == "" {
		failedStep = "none"
	}
	switch s {
	case StatusCompleted:
		t.count(MetricSagaCompleted, nil)
	case StatusCompensated:
		t.count(MetricSagaCompensated, map[string]string{"failed_step": failedStep})
	case StatusCompensatedByHand:
		t.count(MetricSagaCompensatedByHand, nil)
	case StatusRejected:
		t.count(MetricSagaRejected, map[string]string{"failed_step": failedStep})
	}
	if s.Final() {
		workflow.GetLogger(t.ctx).Info("saga ended", "status", s, "failed_step", t.state.FailedStep)
	}
}

// logStarted logs a step's start.
func (t *tracker) logStarted(step string) {
	workflow.GetLogger(t.ctx).Info("step started", "step", step)
}

// logFinished logs a step's end. A failure is logged by its code: the
// message of a business refusal can hold balances and amounts.
func (t *tracker) logFinished(step string, res activities.Result, err error) {
	logger := workflow.GetLogger(t.ctx)
	if err != nil {
		logger.Info("step failed", "step", step, "attempt", failedAttempt(err), "code", errorCode(err))
		return
	}
	logger.Info("step done", "step", step, "attempt", res.Attempt, "outcome", res.Outcome)
}

// reportCompensation logs a compensation's progress and counts its failures.
func (t *tracker) reportCompensation(step string, e saga.Event) {
	logger := workflow.GetLogger(t.ctx)
	kv := []any{"step", step, "compensation", e.Name, "round", e.Round}
	switch e.Kind {
	case saga.Started:
		logger.Info("compensation started", kv...)
	case saga.Retrying:
		logger.Warn("compensation round failed, retrying after a backoff", append(kv, "code", errorCode(e.Err))...)
		t.count(MetricCompensationFailures, map[string]string{"compensation": e.Name, "final": "false"})
	case saga.Failed:
		logger.Error("compensation failed for good", append(kv, "code", errorCode(e.Err))...)
		t.count(MetricCompensationFailures, map[string]string{"compensation": e.Name, "final": "true"})
	case saga.Compensated:
		logger.Info("compensation done", kv...)
	}
}

// errorCode names an error for logs and labels without its message: the
// application error's type (a business code, INFRASTRUCTURE, ...),
// CANCELED or TIMEOUT.
func errorCode(err error) string {
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	var timeout *temporal.TimeoutError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &appErr):
		return appErr.Type()
	case errors.As(err, &canceled):
		return "CANCELED"
	case errors.As(err, &timeout):
		return "TIMEOUT"
	}
	return "ERROR"
}
