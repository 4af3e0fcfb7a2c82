package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
)

// writeOutcome prints an outcome as aligned "label value" lines.
func writeOutcome(w io.Writer, o sagaclient.Outcome) {
	kv := newKV(w)
	kv.add("order", fmt.Sprintf("%s (saga %s, run %s)", o.OrderID, o.WorkflowID, o.RunID))
	kv.add("outcome", o.Kind)
	if o.HasState() {
		s := o.State
		kv.add("status", string(s.Status))
		kv.add("customer", fmt.Sprintf("%s, region %s, total %s", s.CustomerID, s.Region, money(s.Total)))
		if s.Tracking != "" && o.Kind == sagaclient.Completed {
			kv.add("tracking", s.Tracking)
		}
		if s.FailedStep != "" {
			kv.add("failed step", s.FailedStep)
		}
		if s.Error != "" {
			kv.add("error", s.Error)
		}
		if o.Kind != sagaclient.Completed {
			kv.add("compensations", orNone(strings.Join(s.CompensationsRun(), ", ")))
		}
	} else if o.Error != "" {
		kv.add("error", o.Error)
	}
	kv.flush()
}
