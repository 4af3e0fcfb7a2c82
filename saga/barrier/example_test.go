package barrier_test

import (
	"fmt"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// A retention job asks Temporal which workflows can still run a step (open
// ones, and closed ones still in the namespace's retention, which a reset
// could revive) and keeps their sagas' barrier records; pgbarrier.PruneRows
// and mongobarrier.PruneTombstones apply the same rule.
func ExampleProtected() {
	protected := barrier.NewProtected("order-1", "order-7")
	for _, sagaID := range []string{"order-1", "order-7/0b9f3c1e", "order-2/5d1c77aa"} {
		fmt.Printf("%-18s kept: %v\n", sagaID, protected.Has(sagaID))
	}
	// Output:
	// order-1            kept: true
	// order-7/0b9f3c1e   kept: true
	// order-2/5d1c77aa   kept: false
}
