package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// refresh publishes the state's Details as the saga's current details.
func (t *tracker) refresh() { workflow.SetCurrentDetails(t.ctx, t.state.Details()) }

// Details renders the saga's current details, the short markdown the
// Temporal Web UI shows on the saga's page (workflow.SetCurrentDetails):
// order, customer, total, status, failed step and compensations, in four
// lines or so (the UI shows about five without scrolling).
func (s *SagaState) Details() string {
	var b strings.Builder
	line := func(label, value string) { b.WriteString("- **" + label + ":** " + value + "\n") }
	order := fmt.Sprintf("%s for %s in %s", mdEscape(s.OrderID), mdEscape(s.CustomerID), mdEscape(s.Region))
	if s.Total > 0 {
		order += ", total " + money(s.Total)
	}
	line("Order", order)
	line("Status", string(s.Status))
	var running, compensating, resolved []string
	for _, st := range s.Steps {
		switch st.Status {
		case StepRunning:
			r := st.Name
			if !st.FailingSince.IsZero() {
				r += fmt.Sprintf(" (stuck since %s, last error: %s; the server retries it)", st.FailingSince.UTC().Format(time.DateTime), mdEscape(st.LastError))
			}
			running = append(running, r)
		case StepCompensating:
			c := st.Compensation
			switch {
			case !st.FailingSince.IsZero():
				c += fmt.Sprintf(" (failing since %s, last error: %s; the server retries it)", st.FailingSince.UTC().Format(time.DateTime), mdEscape(st.LastError))
			case st.CompensationRounds > 1:
				c += fmt.Sprintf(" (round %d, last error: %s)", st.CompensationRounds, mdEscape(st.LastError))
			}
			compensating = append(compensating, c)
		case StepResolved:
			if r := st.Resolution; r != nil {
				resolved = append(resolved, fmt.Sprintf("%s by %s: %s", st.Compensation, mdEscape(r.By), mdEscape(r.Reason)))
			}
		}
	}
	if len(running) > 0 {
		line("Running", strings.Join(running, ", "))
	}
	if s.FailedStep != "" {
		line("Failed step", fmt.Sprintf("%s: %s", s.FailedStep, mdEscape(s.Error)))
	} else if s.Error != "" {
		line("Error", mdEscape(s.Error))
	}
	if len(compensating) > 0 {
		line("Compensating", strings.Join(compensating, ", "))
	}
	if done := s.CompensationsRun(); len(done) > 0 {
		line("Compensations run", strings.Join(done, ", "))
	}
	if len(resolved) > 0 {
		line("Resolved by hand", strings.Join(resolved, "; "))
	}
	if s.Tracking != "" {
		line("Tracking", mdEscape(s.Tracking))
	}
	return b.String()
}

// Summary is the one line the Web UI shows for an order's saga (its
// static summary): "Order o-1 for alice: 2 x SKU-1, 1 x SKU-2".
func (in OrderInput) Summary() string {
	return fmt.Sprintf("Order %s for %s: %s", in.OrderID, in.CustomerID, itemsSummary(in.Items))
}

// Details renders the order as the saga's static details, the markdown the
// Web UI shows with the summary: order, customer, region, items,
// destination, and how a demo shapes the run. The UI shows about five
// lines without scrolling, so it is kept to four.
func (in OrderInput) Details() string {
	var b strings.Builder
	line := func(label, value string) { b.WriteString("- **" + label + ":** " + value + "\n") }
	line("Order", fmt.Sprintf("%s for %s in %s", mdEscape(in.OrderID), mdEscape(in.CustomerID), mdEscape(in.Region)))
	line("Items", mdEscape(itemsSummary(in.Items)))
	a := in.ShipTo
	line("Ship to", mdEscape(fmt.Sprintf("%s, %s, %s %s, %s", a.Name, a.Street, a.PostalCode, a.City, a.Country)))
	if in.Demo.FailAt != "" {
		line("Demo", "fails at "+mdEscape(in.Demo.FailAt))
	}
	if in.Demo.FailCompensation != "" {
		line("Demo", "the compensation of "+mdEscape(in.Demo.FailCompensation)+" fails until an operator resolves it")
	}
	if in.Demo.PauseBefore != "" {
		line("Demo", fmt.Sprintf("pauses %s before %s", in.Demo.Pause, mdEscape(in.Demo.PauseBefore)))
	}
	return b.String()
}

// mdEscape escapes the characters markdown would read as formatting.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>#|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
