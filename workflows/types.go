// Package workflows holds OrderSaga, the order saga of DESIGN.md, and its
// types. Everything here is deterministic workflow code: no I/O, no
// time.Now, no goroutines; activities do the work.
package workflows

import (
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/services"
)

// The steps of the order saga, in order. ReserveStock and ChargePayment
// run in parallel; ConfirmOrder is the pivot.
const (
	StepPriceOrder     = "PriceOrder"
	StepCreateOrder    = "CreateOrder"
	StepReserveStock   = "ReserveStock"
	StepChargePayment  = "ChargePayment"
	StepCreateShipment = "CreateShipment"
	StepConfirmOrder   = "ConfirmOrder"
)

// Steps lists the steps in the order they run.
var Steps = []string{StepPriceOrder, StepCreateOrder, StepReserveStock, StepChargePayment, StepCreateShipment, StepConfirmOrder}

// ForceableSteps are the steps Demo.FailAt can fail: every step that
// changes a store (PriceOrder only reads).
var ForceableSteps = []string{StepCreateOrder, StepReserveStock, StepChargePayment, StepCreateShipment, StepConfirmOrder}

// Compensations maps each step that changes a store to its compensation.
var Compensations = map[string]string{
	StepCreateOrder:    "CancelOrder",
	StepReserveStock:   "ReleaseStock",
	StepChargePayment:  "RefundPayment",
	StepCreateShipment: "CancelShipment",
}

// Regions are the partitions orders belong to; each has its task queue.
var Regions = []string{"eu", "us", "apac"}

// TaskQueue returns the task queue of a region's sagas.
func TaskQueue(region string) string { return "orders-" + region }

// WorkflowID returns the id of an order's saga, which is also the saga id
// its steps' idempotency keys use.
func WorkflowID(orderID string) string { return "order-" + orderID }

// SagaID returns the saga id an order's saga uses in its idempotency keys:
// its workflow id and the id of its run chain's first run (kept by reset
// and continue-as-new), so that an order id used again once Temporal has
// forgotten its first saga gets a saga id of its own. Sagas started before
// versions (workflows/versions.go) use the workflow id alone.
func SagaID(workflowID, firstRunID string) string { return workflowID + "/" + firstRunID }

// OrderIDFromWorkflowID inverts WorkflowID; ok is false for other ids.
func OrderIDFromWorkflowID(id string) (string, bool) {
	return strings.CutPrefix(id, "order-")
}

// OrderInput is what starts an order saga.
type OrderInput struct {
	OrderID    string           `json:"order_id"`
	CustomerID string           `json:"customer_id"`
	Region     string           `json:"region"`
	Items      []services.Item  `json:"items"`
	ShipTo     services.Address `json:"ship_to"`
	// Demo shapes a run for demonstrations and tests.
	Demo Demo `json:"demo,omitempty"`
	// LocalSteps runs the forward steps (PriceOrder to ConfirmOrder) as
	// local activities: in the worker that runs the saga's workflow task,
	// recorded as markers when the task completes, with no activity task
	// round trip through the server; a saga that meets no failure then
	// takes one workflow task. Retries, timeouts, business refusals and
	// compensations (still regular activities) are the same. The
	// trade-off: a worker that crashes before the workflow task completes
	// loses every step result of that task, and the next worker runs
	// those steps again (the barrier makes the re-run a no-op that reports
	// "duplicate"); steps are not spread over other workers; and retries
	// longer than the workflow task timeout wait on a workflow timer. The
	// choice is part of the saga's input, so a history replays the same
	// whatever the worker's settings.
	LocalSteps bool `json:"local_steps,omitempty"`
	// AttributesAtStart says the saga was started with the search
	// attributes OrderId, CustomerId and SagaStatus=RUNNING already set
	// (sagaclient.StartOptions sets them and this field), so the saga does
	// not set them again: one command and one visibility update fewer per
	// saga. The saga checks the attributes it was started with and sets
	// them itself when they are missing or differ. Part of the input so a
	// history recorded before it existed still replays its first upsert.
	AttributesAtStart bool `json:"attributes_at_start,omitempty"`
}

// Demo shapes a saga run for demonstrations and tests.
type Demo struct {
	// FailAt names a step (one of ForceableSteps) that fails with a
	// business error.
	FailAt string `json:"fail_at,omitempty"`
	// PauseBefore names a step before which the saga waits Pause, long
	// enough to cancel it mid-flight.
	PauseBefore string        `json:"pause_before,omitempty"`
	Pause       time.Duration `json:"pause,omitempty"`
	// FailCompensation names a step (one of ForceableSteps but the pivot)
	// whose compensation fails with a retryable error at every attempt,
	// until an operator resolves it (UpdateResolve).
	FailCompensation string `json:"fail_compensation,omitempty"`
}

// SagaStatus is the saga's status, kept in the SagaStatus search attribute.
type SagaStatus string

// The saga statuses.
const (
	StatusRunning             SagaStatus = "RUNNING"
	StatusCompleted           SagaStatus = "COMPLETED"
	StatusCompensating        SagaStatus = "COMPENSATING"
	StatusCompensated         SagaStatus = "COMPENSATED"
	StatusCompensationFailing SagaStatus = "COMPENSATION_FAILING"
	StatusRejected            SagaStatus = "REJECTED"
	// StatusPivotStuck: the pivot (ConfirmOrder) has not succeeded within
	// its first round of attempts; the server retries it without a deadline.
	StatusPivotStuck SagaStatus = "PIVOT_STUCK"
	// StatusCompensationFailed is final: a compensation failed for good (a
	// non-retryable error); the other compensations ran.
	StatusCompensationFailed SagaStatus = "COMPENSATION_FAILED"
	// StatusCompensatedByHand is final: compensated, with at least one
	// compensation declared done by an operator (StepState.Resolution).
	StatusCompensatedByHand SagaStatus = "COMPENSATED_BY_HAND"
)

// Final reports whether s is a status a saga ends with.
func (s SagaStatus) Final() bool {
	switch s {
	case StatusCompleted, StatusCompensated, StatusRejected, StatusCompensationFailed, StatusCompensatedByHand:
		return true
	}
	return false
}

// StepStatus is the status of one step.
type StepStatus string

// The step statuses.
const (
	StepPending      StepStatus = "pending"
	StepRunning      StepStatus = "running"
	StepDone         StepStatus = "done"
	StepFailed       StepStatus = "failed"
	StepCompensating StepStatus = "compensating"
	StepCompensated  StepStatus = "compensated"
	// StepCompensationFailed: the compensation failed for good.
	StepCompensationFailed StepStatus = "compensation-failed"
	// StepResolved: an operator declared the compensation done by hand.
	StepResolved StepStatus = "resolved"
)

// StepState is what the state query reports of one step.
type StepState struct {
	Name   string     `json:"name"`
	Status StepStatus `json:"status"`
	// Attempts is the attempt that finished the step (0 while unknown).
	Attempts  int       `json:"attempts"`
	StartedAt time.Time `json:"started_at,omitempty"`
	EndedAt   time.Time `json:"ended_at,omitempty"`
	// Outcome is the barrier's verdict (applied, duplicate, ...).
	Outcome   string `json:"outcome,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Compensation names the step's compensation, if it has one.
	Compensation string `json:"compensation,omitempty"`
	// CompensationRounds counts the compensation's rounds of attempts.
	CompensationRounds  int    `json:"compensation_rounds,omitempty"`
	CompensationOutcome string `json:"compensation_outcome,omitempty"`
	// FailingSince is set while the step (the pivot) or its compensation
	// keeps failing: its first round of attempts failed and the server
	// retries it with a capped backoff, without writing to the history.
	// The pending activity (starter status, the Web UI) has its attempt
	// count and last error.
	FailingSince time.Time `json:"failing_since,omitempty"`
	// Resolution is set when an operator declared the compensation done
	// by hand.
	Resolution *Resolution `json:"resolution,omitempty"`
}

// SagaState is the answer to the "state" query, and the saga's result.
type SagaState struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Region     string      `json:"region"`
	Status     SagaStatus  `json:"status"`
	Total      int64       `json:"total"`
	Tracking   string      `json:"tracking,omitempty"`
	FailedStep string      `json:"failed_step,omitempty"`
	Error      string      `json:"error,omitempty"`
	Steps      []StepState `json:"steps"`
}

// Step returns the state of the named step.
func (s *SagaState) Step(name string) *StepState {
	for i := range s.Steps {
		if s.Steps[i].Name == name {
			return &s.Steps[i]
		}
	}
	return nil
}

// CompensationsRun lists the compensations that ran to completion, in the
// order of the steps.
func (s *SagaState) CompensationsRun() []string {
	var out []string
	for _, st := range s.Steps {
		if st.Status == StepCompensated {
			out = append(out, st.Compensation)
		}
	}
	return out
}

// QueryState is the name of the query that returns the SagaState.
const QueryState = "state"
