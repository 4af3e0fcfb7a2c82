package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/saga"
)

// a is used only to name activities; the worker registers the real value.
var a *activities.Activities

// Error types of the saga's own failures, for starters and operators.
const (
	// ErrTypeRejected: the order was invalid or refused before any side effect.
	ErrTypeRejected = "OrderRejected"
	// ErrTypeCompensated: a step failed (or the saga was cancelled) and the
	// finished steps were compensated.
	ErrTypeCompensated = "OrderCompensated"
	// ErrTypeCompensationFailed: a compensation failed for good; an operator
	// must look at the saga.
	ErrTypeCompensationFailed = "CompensationFailed"
)

// Step timeouts. Forward steps retry infrastructure errors until
// forwardDeadline, then fail and the saga compensates (the barrier makes a
// late attempt harmless). The pivot retries without a deadline: once the
// stock is held, the money taken and the shipment booked, the order is
// confirmed.
const (
	attemptTimeout  = 15 * time.Second
	forwardDeadline = 2 * time.Minute
)

// sagaID is the saga id of the idempotency keys: SagaID since
// versionSagaIDPerRun, the workflow id alone before.
func sagaID(info *workflow.Info, v workflow.Version) string {
	if v < versionSagaIDPerRun {
		return info.WorkflowExecution.ID
	}
	return SagaID(info.WorkflowExecution.ID, info.FirstRunID)
}

func forwardOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    attemptTimeout,
		ScheduleToCloseTimeout: forwardDeadline,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
		},
		Summary: summary,
	}
}

// OrderSaga runs one order through the saga of DESIGN.md:
//
//	PriceOrder (read only)
//	CreateOrder                      comp: CancelOrder
//	  ReserveStock || ChargePayment  comp: ReleaseStock, RefundPayment
//	CreateShipment                   comp: CancelShipment
//	ConfirmOrder                     pivot
//
// It returns the final state on success. An invalid or unpriceable order
// fails at once as ErrTypeRejected with no side effect; a failed step or a
// cancellation compensates the registered steps and fails as
// ErrTypeCompensated (or ends cancelled). The state query and the search
// attributes follow every step.
func OrderSaga(ctx workflow.Context, in OrderInput) (SagaState, error) {
	r := &run{ctx: ctx, in: in, t: newTracker(ctx, in)}
	r.version = workflow.GetVersion(ctx, changeOrderSaga, workflow.DefaultVersion, orderSagaVersion)
	r.sagaID = sagaID(workflow.GetInfo(ctx), r.version)
	if err := r.t.register(); err != nil {
		return r.t.state, err
	}
	if err := r.registerActions(); err != nil {
		return r.t.state, err
	}
	state, err := r.execute()
	// An operator action that took effect answers before the saga closes.
	done, _ := workflow.NewDisconnectedContext(ctx)
	if werr := workflow.Await(done, func() bool { return workflow.AllHandlersFinished(done) }); werr != nil {
		return state, werr
	}
	return state, err
}

// run is one execution of OrderSaga.
type run struct {
	ctx    workflow.Context
	in     OrderInput
	sagaID string
	// version is the saga's code version (see versions.go), fixed when
	// the saga started.
	version workflow.Version
	t       *tracker
	s       *saga.Saga
	// pivot runs ConfirmOrder, once the saga reaches it.
	pivot *saga.Persistent
}

func (r *run) ref() activities.Ref { return activities.Ref{SagaID: r.sagaID, OrderID: r.in.OrderID} }

func (r *run) execute() (SagaState, error) {
	in, err := Validate(r.in)
	if err != nil {
		return r.reject("", err)
	}
	r.in = in
	r.s = saga.New(r.ctx, saga.Options{
		ActivityOptions: workflow.ActivityOptions{
			StartToCloseTimeout: attemptTimeout,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
		},
		MaxRetryBackoff: maxRetryBackoff,
		Observer:        r.t.observe,
	})

	// PriceOrder has no side effect: a refusal here is a rejection.
	if err := r.pause(StepPriceOrder); err != nil {
		return r.compensate(StepPriceOrder, err)
	}
	var price activities.PriceResult
	r.t.started(StepPriceOrder)
	err = r.exec(r.ctx, fmt.Sprintf("Price %s", itemsSummary(in.Items)), a.PriceOrder,
		activities.PriceInput{Items: in.Items}).Get(r.ctx, &price)
	r.t.finished(StepPriceOrder, price.Result, err)
	if err != nil {
		if activities.IsBusinessFailure(err) {
			return r.reject(StepPriceOrder, err)
		}
		return r.compensate(StepPriceOrder, err)
	}
	r.t.state.Total = price.Total

	steps := []func() (string, error){r.createOrder, r.reserveAndCharge, r.createShipment}
	for _, step := range steps {
		if name, err := step(); err != nil {
			return r.compensate(name, err)
		}
	}
	if err := r.confirm(); err != nil {
		return r.compensate(StepConfirmOrder, err)
	}
	if err := r.t.setStatus(StatusCompleted); err != nil {
		return r.t.state, err
	}
	return r.t.state, nil
}

// exec starts the activity of a forward step on ctx: a local activity with
// the same timeouts and retries when the order asks for local steps.
func (r *run) exec(ctx workflow.Context, summary string, activity any, arg any) workflow.Future {
	if r.in.LocalSteps {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions(forwardOptions(summary))), activity, arg)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, forwardOptions(summary)), activity, arg)
}

// localOptions are the local-activity form of a forward step's options.
func localOptions(o workflow.ActivityOptions) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: o.RetryPolicy, Summary: o.Summary,
	}
}

// pause waits before step when the demo asks for it.
func (r *run) pause(step string) error {
	if r.in.Demo.PauseBefore != step || r.in.Demo.Pause <= 0 {
		return nil
	}
	return workflow.Sleep(r.ctx, r.in.Demo.Pause)
}

func (r *run) fails(step string) bool { return r.in.Demo.FailAt == step }

// undoInput is the input of the compensation of step.
func (r *run) undoInput(step string) activities.UndoInput {
	return activities.UndoInput{Ref: r.ref(), Fail: r.in.Demo.FailCompensation == step}
}

// undo gives the compensation of step its summary for the Web UI.
func (r *run) undo(step string) saga.CompensationOptions {
	return saga.CompensationOptions{Summary: compensationSummary(step, r.in, r.t.state.Total)}
}

func (r *run) createOrder() (string, error) {
	in := r.in
	if err := r.s.AddWithOptions(Compensations[StepCreateOrder], r.undo(StepCreateOrder), a.CancelOrder,
		activities.CancelOrderInput{Ref: r.ref(), Reason: "saga compensated", Fail: r.in.Demo.FailCompensation == StepCreateOrder}); err != nil {
		return StepCreateOrder, err
	}
	if err := r.pause(StepCreateOrder); err != nil {
		return StepCreateOrder, err
	}
	r.t.started(StepCreateOrder)
	var res activities.Result
	err := r.exec(r.ctx, fmt.Sprintf("Create order %s for %s", in.OrderID, in.CustomerID), a.CreateOrder,
		activities.CreateOrderInput{Ref: r.ref(), CustomerID: in.CustomerID, Region: in.Region, Items: in.Items,
			ShipTo: in.ShipTo, Total: r.t.state.Total, Fail: r.fails(StepCreateOrder)}).Get(r.ctx, &res)
	r.t.finished(StepCreateOrder, res, err)
	return StepCreateOrder, err
}

// reserveAndCharge runs ReserveStock and ChargePayment in parallel. When
// one fails the other is cancelled; both compensations are registered
// before either starts.
func (r *run) reserveAndCharge() (string, error) {
	in := r.in
	for _, step := range []string{StepReserveStock, StepChargePayment} {
		undo := map[string]any{StepReserveStock: a.ReleaseStock, StepChargePayment: a.RefundPayment}[step]
		if err := r.s.AddWithOptions(Compensations[step], r.undo(step), undo, r.undoInput(step)); err != nil {
			return step, err
		}
	}
	for _, step := range []string{StepReserveStock, StepChargePayment} {
		if err := r.pause(step); err != nil {
			return step, err
		}
	}
	ctx, cancel := workflow.WithCancel(r.ctx)
	defer cancel()
	r.t.started(StepReserveStock)
	reserve := r.exec(ctx, fmt.Sprintf("Reserve %s in %s", itemsSummary(in.Items), in.Region), a.ReserveStock,
		activities.ReserveInput{Ref: r.ref(), Items: in.Items, Fail: r.fails(StepReserveStock)})
	r.t.started(StepChargePayment)
	charge := r.exec(ctx, fmt.Sprintf("Charge %s %s", in.CustomerID, money(r.t.state.Total)), a.ChargePayment,
		activities.ChargeInput{Ref: r.ref(), CustomerID: in.CustomerID, Amount: r.t.state.Total, Fail: r.fails(StepChargePayment)})

	var failedStep string
	var firstErr error
	sel := workflow.NewSelector(r.ctx)
	watch := func(step string, fut workflow.Future) {
		sel.AddFuture(fut, func(f workflow.Future) {
			var res activities.Result
			err := f.Get(r.ctx, &res)
			r.t.finished(step, res, err)
			if err != nil && firstErr == nil {
				failedStep, firstErr = step, err
				cancel() // the sibling's compensation is registered: stop it early
			}
		})
	}
	watch(StepReserveStock, reserve)
	watch(StepChargePayment, charge)
	sel.Select(r.ctx)
	sel.Select(r.ctx)
	return failedStep, firstErr
}

func (r *run) createShipment() (string, error) {
	in := r.in
	if err := r.s.AddWithOptions(Compensations[StepCreateShipment], r.undo(StepCreateShipment), a.CancelShipment,
		r.undoInput(StepCreateShipment)); err != nil {
		return StepCreateShipment, err
	}
	if err := r.pause(StepCreateShipment); err != nil {
		return StepCreateShipment, err
	}
	r.t.started(StepCreateShipment)
	var res activities.ShipResult
	err := r.exec(r.ctx, fmt.Sprintf("Ship order %s to %s", in.OrderID, in.ShipTo.Country), a.CreateShipment,
		activities.ShipInput{Ref: r.ref(), ShipTo: in.ShipTo, Fail: r.fails(StepCreateShipment)}).Get(r.ctx, &res)
	r.t.finished(StepCreateShipment, res.Result, err)
	r.t.state.Tracking = res.Tracking
	return StepCreateShipment, err
}

// maxRetryBackoff caps the wait between the server's retries of a failing
// compensation or a stuck pivot: after an outage of an hour or a month the
// saga resumes within 5 minutes of the service coming back, or at once when
// an operator runs UpdateRetry. A shorter cap would call a service that is
// down more often for little gain (8,640 attempts in 30 days instead of
// 43,200 at one minute).
const maxRetryBackoff = 5 * time.Minute

// pivotFirstRound bounds the pivot's first round of attempts; after it the
// saga shows PIVOT_STUCK and the server retries the pivot without a
// deadline (saga.Persistent).
const pivotFirstRound = time.Minute

// confirm runs the pivot. It runs on a disconnected context without a
// deadline: a cancellation that arrives now no longer undoes the order.
// Its first round runs like a forward step (a local activity with local
// steps) for up to pivotFirstRound; then the server retries it, capped at
// a minute apart, without writing to the history, until it succeeds or is
// refused for good.
func (r *run) confirm() error {
	if err := r.pause(StepConfirmOrder); err != nil {
		return err
	}
	ctx, _ := workflow.NewDisconnectedContext(r.ctx)
	opts := forwardOptions("Confirm order " + r.in.OrderID)
	opts.ScheduleToCloseTimeout = pivotFirstRound
	r.pivot = &saga.Persistent{
		Name: StepConfirmOrder, Options: opts, Local: r.in.LocalSteps, MaxBackoff: maxRetryBackoff,
		OnFailing: func(_ int, err error) { r.t.stuck(StepConfirmOrder, err) },
	}
	r.t.started(StepConfirmOrder)
	fut, err := r.pivot.Run(ctx, a.ConfirmOrder, activities.ConfirmInput{Ref: r.ref(), Fail: r.fails(StepConfirmOrder)})
	var res activities.Result
	if err == nil {
		err = fut.Get(ctx, &res)
	}
	r.t.finished(StepConfirmOrder, res, err)
	return err
}

// reject ends a saga that changed nothing.
func (r *run) reject(step string, cause error) (SagaState, error) {
	if step != "" {
		if err := r.t.fail(step, cause); err != nil {
			return r.t.state, err
		}
	} else {
		r.t.state.Error = errorMessage(cause)
	}
	if err := r.t.setStatus(StatusRejected); err != nil {
		return r.t.state, err
	}
	return r.t.state, temporal.NewNonRetryableApplicationError("order rejected: "+r.t.state.Error, ErrTypeRejected, cause, r.t.state)
}

// compensate undoes the registered steps after step failed with cause (or
// the saga was cancelled).
func (r *run) compensate(step string, cause error) (SagaState, error) {
	if err := r.t.fail(step, cause); err != nil {
		return r.t.state, err
	}
	if err := r.t.setStatus(StatusCompensating); err != nil {
		return r.t.state, err
	}
	if err := r.s.Compensate(); err != nil {
		final := StatusCompensationFailed
		if r.version < versionFinalStatuses {
			final = StatusCompensationFailing // what sagas of earlier builds ended with
		}
		r.t.setStatusLogged(final)
		r.t.count(MetricSagaCompensationFailed, nil)
		return r.t.state, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeCompensationFailed, err, r.t.state)
	}
	final := StatusCompensated
	if r.t.resolvedByHand() {
		final = StatusCompensatedByHand
	}
	if err := r.t.setStatus(final); err != nil {
		return r.t.state, err
	}
	var canceled *temporal.CanceledError
	if errors.As(cause, &canceled) || errors.Is(r.ctx.Err(), workflow.ErrCanceled) {
		return r.t.state, temporal.NewCanceledError(r.t.state)
	}
	return r.t.state, temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("order compensated: %s failed: %s", step, r.t.state.Error), ErrTypeCompensated, cause, r.t.state)
}
