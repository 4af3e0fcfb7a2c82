package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// writeResolved prints the sagas resolved by hand with their reasons.
func writeResolved(b *strings.Builder, resolved []sagaclient.Resolved) {
	n := 0
	for _, s := range resolved {
		n += len(s.Steps)
	}
	fmt.Fprintf(b, "sagas resolved by hand (%s): %d, with %d compensation(s) resolved\n", workflows.StatusCompensatedByHand, len(resolved), n)
	for _, s := range resolved {
		for _, r := range s.Steps {
			fmt.Fprintf(b, "  order %s: %s (of %s) resolved by %s at %s: %s\n", s.OrderID, r.Compensation, r.Step, r.By,
				r.At.Local().Format(time.DateTime), r.Reason)
		}
	}
}
