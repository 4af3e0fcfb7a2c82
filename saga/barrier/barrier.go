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
