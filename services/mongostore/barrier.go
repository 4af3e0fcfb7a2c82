package mongostore

import (
	"errors"
	"fmt"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services"
)

// BusinessError turns the barrier's refusals into the services' business
// errors: a late forward step (barrier.ErrCompensated) into
// services.ErrStepCompensated, a document of another saga into
// services.ErrOrderExists and a missing one into services.ErrUnknownOrder
// (both services key their documents by order id). Other errors pass
// unchanged.
func BusinessError(err error) error {
	for _, m := range []struct {
		from error
		to   *services.Error
	}{
		{barrier.ErrCompensated, services.ErrStepCompensated},
		{mongobarrier.ErrOwnedByOtherSaga, services.ErrOrderExists},
		{mongobarrier.ErrNotFound, services.ErrUnknownOrder},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}

// RefusedStatus returns the status field of the document that a
// *mongobarrier.PreconditionError in err holds, and whether there was one.
func RefusedStatus(err error) (string, bool) {
	var pe *mongobarrier.PreconditionError
	if !errors.As(err, &pe) {
		return "", false
	}
	status, _ := pe.Doc.Lookup("status").StringValueOK()
	return status, true
}
