package sagalog_test

import (
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/sagalog"
)

func TestSafeErrorWithholdsBusinessMessages(t *testing.T) {
	refusal := temporal.NewNonRetryableApplicationError("customer \"alice\": 500 needed, 20 available", "INSUFFICIENT_FUNDS", nil)
	if got := sagalog.SafeError(refusal); strings.Contains(got, "500") || !strings.Contains(got, "INSUFFICIENT_FUNDS") {
		t.Errorf("SafeError(refusal) = %q, want the code without the message", got)
	}
	infra := temporal.NewApplicationError("inventory database does not answer", "INFRASTRUCTURE")
	if got := sagalog.SafeError(infra); got != infra.Error() {
		t.Errorf("SafeError(infrastructure) = %q, want the message", got)
	}
	if got := sagalog.SafeError(errors.New("plain")); got != "plain" {
		t.Errorf("SafeError(plain) = %q", got)
	}
}

// TestSDKLoggerAddsSagaFieldsOnce logs as the SDK does: a worker logger,
// an activity logger derived from it (to which Interceptor adds the fields
// again), and a line of the worker's own about an activity.
func TestSDKLoggerAddsSagaFieldsOnce(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	root := sagalog.SDK(logging.Temporal(zap.New(core)))
	worker := log.With(root, "Namespace", "default", "TaskQueue", "q")
	act := log.With(worker, "ActivityID", "7", "ActivityType", "ChargePayment", "Attempt", int32(2),
		"WorkflowType", "OrderSaga", "WorkflowID", "order-o-1", "RunID", "r")
	act = log.With(act, "saga_id", "order-o-1", "order_id", "o-1", "step", "ChargePayment", "attempt", int32(2))
	act.Info("step refused", "code", "INSUFFICIENT_FUNDS")
	worker.Error("Activity error.", "WorkflowID", "order-o-1", "ActivityType", "ChargePayment", "Attempt", int32(2),
		"Error", temporal.NewNonRetryableApplicationError("customer: 500 needed, 20 available", "INSUFFICIENT_FUNDS", nil),
		"Result", "total 500")
	worker.Info("Started Worker")

	want := map[string]any{"saga_id": "order-o-1", "order_id": "o-1", "step": "ChargePayment", "attempt": int32(2)}
	for _, entry := range logs.All()[:2] {
		counts := map[string]int{}
		for _, f := range entry.Context {
			counts[f.Key]++
		}
		fields := entry.ContextMap()
		for k, v := range want {
			if counts[k] != 1 || fields[k] != v {
				t.Errorf("%q: %s appears %d times as %v, want once as %v", entry.Message, k, counts[k], fields[k], v)
			}
		}
	}
	errLine := logs.All()[1].ContextMap()
	if s, _ := errLine["Error"].(string); strings.Contains(s, "500") || errLine["Result"] != "(withheld)" {
		t.Errorf("Activity error line leaks: %v", errLine)
	}
	if f := logs.All()[2].ContextMap(); f["saga_id"] != nil {
		t.Errorf("a line about no saga got saga fields: %v", f)
	}
}
