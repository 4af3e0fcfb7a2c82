package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/saga"
)

// The custom search attributes the saga keeps current.
var (
	AttrOrderID    = temporal.NewSearchAttributeKeyKeyword("OrderId")
	AttrCustomerID = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	AttrSagaStatus = temporal.NewSearchAttributeKeyKeyword("SagaStatus")
	AttrFailedStep = temporal.NewSearchAttributeKeyKeyword("FailedStep")
)

// tracker keeps the SagaState and the search attributes in step with the saga.
type tracker struct {
	ctx   workflow.Context
	state SagaState
	// trustStart skips the first upsert when the saga was started with the
	// search attributes it would set (OrderInput.AttributesAtStart). Local
	// steps trust them too: that mode was added after the start set them.
	trustStart bool
}

func newTracker(ctx workflow.Context, in OrderInput) *tracker {
	t := &tracker{ctx: ctx, trustStart: in.LocalSteps || in.AttributesAtStart, state: SagaState{
		OrderID: in.OrderID, CustomerID: in.CustomerID, Region: in.Region, Status: StatusRunning,
	}}
	for _, name := range Steps {
		t.state.Steps = append(t.state.Steps, StepState{Name: name, Status: StepPending, Compensation: Compensations[name]})
	}
	return t
}

// register installs the state query and sets the first search attributes.
func (t *tracker) register() error {
	if err := workflow.SetQueryHandlerWithOptions(t.ctx, QueryState, func() (SagaState, error) { return t.state, nil },
		workflow.QueryHandlerOptions{Description: "every step's status, attempts, timestamps and last error"}); err != nil {
		return err
	}
	t.count(MetricSagaStarted, nil)
	if t.trustStart && t.startedWithAttributes() {
		t.refresh()
		return nil
	}
	return t.upsert(AttrOrderID.ValueSet(t.state.OrderID), AttrCustomerID.ValueSet(t.state.CustomerID),
		AttrSagaStatus.ValueSet(string(StatusRunning)))
}

// startedWithAttributes reports whether the saga's start set the search
// attributes register would set, to the same values.
func (t *tracker) startedWithAttributes() bool {
	sa := workflow.GetTypedSearchAttributes(t.ctx)
	order, ok1 := sa.GetKeyword(AttrOrderID)
	customer, ok2 := sa.GetKeyword(AttrCustomerID)
	status, ok3 := sa.GetKeyword(AttrSagaStatus)
	return ok1 && ok2 && ok3 && order == t.state.OrderID && customer == t.state.CustomerID && status == string(StatusRunning)
}

func (t *tracker) upsert(updates ...temporal.SearchAttributeUpdate) error {
	t.refresh()
	return workflow.UpsertTypedSearchAttributes(t.ctx, updates...)
}

// setStatus records the saga status, in the state and the search attribute.
func (t *tracker) setStatus(s SagaStatus) error {
	if t.state.Status == s {
		return nil
	}
	t.state.Status = s
	t.countStatus(s)
	return t.upsert(AttrSagaStatus.ValueSet(string(s)))
}

// fail records the first step that failed and why.
func (t *tracker) fail(step string, err error) error {
	if t.state.FailedStep != "" {
		return nil
	}
	t.state.FailedStep, t.state.Error = step, errorMessage(err)
	return t.upsert(AttrFailedStep.ValueSet(step))
}

func (t *tracker) started(step string) {
	defer t.refresh()
	st := t.state.Step(step)
	st.Status, st.StartedAt = StepRunning, workflow.Now(t.ctx)
	t.logStarted(step)
}

// finished records a step's end: done with its result, or failed.
func (t *tracker) finished(step string, res activities.Result, err error) {
	defer t.refresh()
	st := t.state.Step(step)
	st.EndedAt, st.FailingSince = workflow.Now(t.ctx), time.Time{}
	t.logFinished(step, res, err)
	if err != nil {
		st.Status, st.LastError, st.Attempts = StepFailed, errorMessage(err), failedAttempt(err)
		return
	}
	st.Status, st.Outcome, st.Attempts = StepDone, res.Outcome, int(res.Attempt)
}

// observe follows the compensations: it is the saga's Observer.
func (t *tracker) observe(e saga.Event) {
	defer t.refresh()
	st := t.stepOf(e.Name)
	if st == nil {
		return
	}
	st.CompensationRounds = e.Round
	t.reportCompensation(st.Name, e)
	switch e.Kind {
	case saga.Started:
		st.Status = StepCompensating
	case saga.Retrying:
		st.LastError = errorMessage(e.Err)
		if st.FailingSince.IsZero() {
			st.FailingSince = workflow.Now(t.ctx)
		}
		t.setStatusLogged(StatusCompensationFailing)
	case saga.Failed:
		st.Status, st.LastError, st.FailingSince = StepCompensationFailed, errorMessage(e.Err), time.Time{}
		t.setStatusLogged(StatusCompensationFailing)
	case saga.Compensated:
		st.Status, st.FailingSince = StepCompensated, time.Time{}
		var res activities.Result
		if e.Result != nil && e.Result(&res) == nil {
			st.CompensationOutcome = res.Outcome
		}
		t.recovered()
	case saga.Resolved:
		st.Status, st.FailingSince = StepResolved, time.Time{}
		st.Resolution = &Resolution{By: e.By, Reason: e.Reason, At: workflow.Now(t.ctx)}
		t.recovered()
	}
}

// recovered puts a COMPENSATION_FAILING saga back to COMPENSATING once no
// compensation is failing any more.
func (t *tracker) recovered() {
	if t.state.Status != StatusCompensationFailing {
		return
	}
	for _, st := range t.state.Steps {
		if !st.FailingSince.IsZero() {
			return
		}
	}
	t.setStatusLogged(StatusCompensating)
}

// stuck records that step (the pivot) failed its first round with err and
// is retried by the server: PIVOT_STUCK.
func (t *tracker) stuck(step string, err error) {
	defer t.refresh()
	st := t.state.Step(step)
	st.LastError = errorMessage(err)
	if st.FailingSince.IsZero() {
		st.FailingSince = workflow.Now(t.ctx)
	}
	t.setStatusLogged(StatusPivotStuck)
}

// resolvedByHand reports whether an operator resolved a compensation.
func (t *tracker) resolvedByHand() bool {
	for _, st := range t.state.Steps {
		if st.Resolution != nil {
			return true
		}
	}
	return false
}

// setStatusLogged is setStatus for the observer, which cannot return an error.
func (t *tracker) setStatusLogged(s SagaStatus) {
	if err := t.setStatus(s); err != nil {
		workflow.GetLogger(t.ctx).Error("update SagaStatus", "status", s, "error", err)
	}
}

func (t *tracker) stepOf(compensation string) *StepState {
	for i := range t.state.Steps {
		if t.state.Steps[i].Compensation == compensation {
			return &t.state.Steps[i]
		}
	}
	return nil
}

// errorMessage is the innermost message of a Temporal error chain: the
// business or infrastructure error an activity reported.
func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(next) {
		err = next
	}
	return err.Error()
}

// failedAttempt reads the attempt number an activity attached to its error.
func failedAttempt(err error) int {
	var appErr *temporal.ApplicationError
	var f activities.Failure
	if errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&f) == nil {
		return int(f.Attempt)
	}
	return 0
}
