// Package barrier holds what the saga engine's two idempotency barriers
// share: the key of a step (Key), what a barrier call did (Outcome), the
// refusal of a step already compensated (ErrCompensated), and the rule by
// which their records are pruned (Protected).
//
// A barrier is the activity-side half of the engine (package saga is the
// workflow side). It makes a saga step safe under at-least-once execution:
// a step runs at most once, a compensation of a step that never ran
// changes nothing (null compensation), and a step arriving after its
// compensation is refused (hang safety). Each store has its own form, in a
// package of its own so that an application imports only the driver it
// uses:
//
//   - saga/pgbarrier: a row in the step's own PostgreSQL transaction (pgx);
//   - saga/mongobarrier: a marker inside the one MongoDB document the step
//     changes (the official Go driver, v2).
package barrier

import "errors"

// ErrCompensated is returned by Forward when the step was already
// compensated: the forward call is refused and changes nothing.
var ErrCompensated = errors.New("step already compensated")

// Key identifies one step of one saga. SagaID must be stable across retries,
// resets and continue-as-new: the workflow id, or the workflow id and the
// run chain's first run id ("order-o1/2f1e6c3a-..."), never the current run
// id. Both barriers keep the saga id as a value (a text column; the
// saga.id field of a document, never a field name), so '/' and any length
// are fine; Step becomes a MongoDB field name and must not hold '.' or '$'.
type Key struct {
	SagaID string
	Step   string
}

// String returns "<saga id>/<step>", as errors name the step.
func (k Key) String() string { return k.SagaID + "/" + k.Step }

// Outcome says what a barrier call did.
type Outcome int

// The outcomes of Forward and Compensate.
const (
	// Applied: the business change ran and committed with its barrier row.
	Applied Outcome = iota + 1
	// Duplicate: the forward step had already been applied; nothing changed.
	Duplicate
	// NullCompensation: the step never ran; the compensation recorded that
	// and changed nothing.
	NullCompensation
	// AlreadyCompensated: the compensation had already run; nothing changed.
	AlreadyCompensated
)

// String returns the outcome's name ("applied", "duplicate",
// "null-compensation", "already-compensated").
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case NullCompensation:
		return "null-compensation"
	case AlreadyCompensated:
		return "already-compensated"
	}
	return "unknown"
}
