package mongobarrier

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// Mark is one step's marker in a barrier-guarded document, as the step
// and its compensation leave it.
type Mark struct {
	Step string
	// Compensated says the step's compensation ran, or stood in for a step
	// that never ran: the marker reads "compensate" rather than "forward".
	Compensated bool
}

// MarkedDoc returns doc (a struct or document with an _id) as saga sagaID's
// steps leave it in its collection when InsertDoc created it and UpdateDoc
// and CompensateDoc changed it: doc's fields, then the barrier's field
// naming the saga and holding marks in the order given. It is for writing,
// in bulk, documents that those functions then treat as the saga's own (a
// prefill of finished sagas, say): it writes nothing and guards nothing, so
// the caller must know that no such document exists. A tombstone is
// MarkedTombstone's.
func MarkedDoc(sagaID string, doc any, marks ...Mark) (bson.D, error) {
	if len(marks) == 0 {
		return nil, fmt.Errorf("barrier %s: marked document without a step", sagaID)
	}
	steps := make(bson.D, 0, len(marks))
	for _, m := range marks {
		if err := checkKey(barrier.Key{SagaID: sagaID, Step: m.Step}); err != nil {
			return nil, err
		}
		for _, e := range steps {
			if e.Key == m.Step {
				return nil, fmt.Errorf("barrier %s: step %s marked twice", sagaID, m.Step)
			}
		}
		op := opForward
		if m.Compensated {
			op = opCompensate
		}
		steps = append(steps, bson.E{Key: m.Step, Value: op})
	}
	out, _, err := markDoc(barrier.Key{SagaID: sagaID, Step: marks[0].Step}, doc, nil, opForward)
	if err != nil {
		return nil, err
	}
	// markDoc ends the document with the barrier's field, marking one step.
	marker := out[len(out)-1].Value.(bson.D)
	for i, e := range marker {
		if e.Key == "steps" {
			marker[i].Value = steps
		}
	}
	return out, nil
}

// MarkedTombstone returns tombstone (a struct or document with an _id) as
// CompensateDoc inserts it at time at when it compensates step of saga
// sagaID and finds no document: with the step marked compensated and the
// marks of a tombstone. Like MarkedDoc, it writes nothing.
func MarkedTombstone(sagaID, step string, tombstone any, at time.Time) (bson.D, error) {
	out, _, err := markDoc(barrier.Key{SagaID: sagaID, Step: step}, tombstone, nil, opCompensate, tombstoneMarks(at)...)
	return out, err
}
