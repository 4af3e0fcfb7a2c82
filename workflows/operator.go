package workflows

import (
	"fmt"
	"strings"
	"time"
)

// The Workflow Updates an operator sends to a running saga (the starter's
// retry and resolve commands). Each has a validator: an action that does not
// apply is refused before it is written to the saga's history.
const (
	// UpdateRetry runs the failing compensation or the stuck pivot now,
	// skipping what is left of its backoff. Argument: RetryRequest.
	UpdateRetry = "retry"
	// UpdateResolve declares a failing compensation done by hand, and the
	// saga goes on with the other compensations. Argument: ResolveRequest.
	UpdateResolve = "resolve"
)

// RetryRequest asks a saga to run a failing step now.
type RetryRequest struct {
	// Step names the step (CreateShipment, ConfirmOrder, ...) or the
	// compensation (CancelShipment, ...) to retry; empty: the one that is
	// failing, when only one is.
	Step string `json:"step,omitempty"`
	// Operator says who asked, for the saga's audit trail.
	Operator string `json:"operator"`
}

// ResolveRequest declares a failing compensation done by hand.
type ResolveRequest struct {
	// Step names the step whose compensation is failing, or the
	// compensation itself (ChargePayment or RefundPayment).
	Step string `json:"step"`
	// Operator says who resolved it; Reason what was done by hand.
	Operator string `json:"operator"`
	Reason   string `json:"reason"`
}

// ActionResult is what an operator action did.
type ActionResult struct {
	// Step is the step acted on, Compensation its compensation ("" for the
	// pivot).
	Step         string `json:"step"`
	Compensation string `json:"compensation,omitempty"`
	// Outcome says what happened: ActionRetried, ActionResolved, or
	// ActionSucceeded when the step or compensation succeeded on its own
	// before the action took effect.
	Outcome string `json:"outcome"`
	// Status is the saga's status once the action took effect.
	Status SagaStatus `json:"status"`
}

// The outcomes of an operator action.
const (
	ActionRetried   = "retried"
	ActionResolved  = "resolved"
	ActionSucceeded = "succeeded"
)

// Resolution records a compensation declared done by hand.
type Resolution struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// StepOf names the step that name refers to: a step's own name or its
// compensation's, in any letter case.
func StepOf(name string) (string, error) {
	for _, step := range Steps {
		if strings.EqualFold(name, step) || strings.EqualFold(name, Compensations[step]) {
			return step, nil
		}
	}
	return "", fmt.Errorf("unknown step %q: want one of %s or their compensations %s",
		name, strings.Join(ForceableSteps, ", "), strings.Join(compensationNames(), ", "))
}

func compensationNames() []string {
	var out []string
	for _, step := range Steps {
		if c := Compensations[step]; c != "" {
			out = append(out, c)
		}
	}
	return out
}
