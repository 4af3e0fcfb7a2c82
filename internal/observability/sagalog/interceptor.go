// Package sagalog puts the saga on every log line that concerns one: a
// worker interceptor adds saga_id, order_id, step and attempt to the
// loggers that activities (activity.GetLogger) and workflows
// (workflow.GetLogger) use, and SDK wraps the logger the Temporal SDK
// writes its own lines to, so that those carry the same fields and never
// the message of a business refusal, which can hold balances and amounts.
package sagalog

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/workflows"
)

// The fields every log line about a saga carries.
const (
	// FieldSagaID names the saga: its workflow id, order-<order id>. (The
	// idempotency keys of sagas started since saga version 1 add the run
	// chain's first run id to it, workflows.SagaID; one order id has one
	// running saga, so the workflow id is enough to find its lines.)
	FieldSagaID = "saga_id"
	// FieldOrderID is the order the saga runs (from the workflow id).
	FieldOrderID = "order_id"
	// FieldStep is the activity type: a step or a compensation.
	FieldStep = "step"
	// FieldAttempt is the activity attempt, from 1.
	FieldAttempt = "attempt"
)

// Interceptor returns the worker interceptor that adds the saga's fields to
// the activity and workflow loggers.
func Interceptor() interceptor.WorkerInterceptor { return &workerInterceptor{} }

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*workerInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

func (*workerInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}})
}

type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

// GetLogger adds saga_id, order_id, step and attempt.
func (a *activityOutbound) GetLogger(ctx context.Context) log.Logger {
	return log.With(a.Next.GetLogger(ctx), activityFields(a.Next.GetInfo(ctx))...)
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (w *workflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}})
}

type workflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
}

// GetLogger adds saga_id and order_id; the workflow's own lines name the
// step. The SDK's workflow logger stays replay-aware: log.With keeps it.
func (w *workflowOutbound) GetLogger(ctx workflow.Context) log.Logger {
	return log.With(w.Next.GetLogger(ctx), sagaFields(w.Next.GetInfo(ctx).WorkflowExecution.ID)...)
}

// activityFields returns the key-value pairs that name an activity's saga,
// order, step and attempt.
func activityFields(info activity.Info) []any {
	return append(sagaFields(info.WorkflowExecution.ID), FieldStep, info.ActivityType.Name, FieldAttempt, info.Attempt)
}

// sagaFields returns saga_id and, for an order saga's workflow id, order_id.
func sagaFields(workflowID string) []any {
	kv := []any{FieldSagaID, workflowID}
	if orderID, ok := workflows.OrderIDFromWorkflowID(workflowID); ok {
		kv = append(kv, FieldOrderID, orderID)
	}
	return kv
}
