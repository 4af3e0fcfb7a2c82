package pgstore

import (
	"errors"
	"fmt"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
)

// BusinessError turns the barrier's refusal of a late forward step into the
// business error services.ErrStepCompensated; other errors pass unchanged.
func BusinessError(err error) error {
	if errors.Is(err, barrier.ErrCompensated) {
		return fmt.Errorf("%w: %w", services.ErrStepCompensated, err)
	}
	return err
}
