package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/sagaflow/sagaflow/workflows"
)

// pendingActivity is an activity of a running saga that the server has
// scheduled and not seen end, as DescribeWorkflowExecution reports it. A
// compensation (or the pivot) that keeps failing stays pending while the
// server retries it: its attempt count and last failure are only here.
type pendingActivity struct {
	// Type is the activity type: a step (ConfirmOrder) or a compensation
	// (RefundPayment); Step the step it belongs to.
	Type string `json:"activity_type"`
	Step string `json:"step,omitempty"`
	// State is SCHEDULED (waiting for its next attempt or a worker),
	// STARTED (an attempt runs), CANCEL_REQUESTED, PAUSED, ...
	State   string `json:"state"`
	Attempt int32  `json:"attempt"`
	// LastFailure is the message of the last attempt's failure.
	LastFailure string `json:"last_failure,omitempty"`
	// NextAttempt is when the server runs the next attempt (nil while one
	// runs); LastStarted and LastFinished when the last attempt did.
	NextAttempt  *time.Time `json:"next_attempt,omitempty"`
	LastStarted  *time.Time `json:"last_started,omitempty"`
	LastFinished *time.Time `json:"last_finished,omitempty"`
}

// pendingActivities reads the pending activities of a described saga.
func pendingActivities(d *workflowservice.DescribeWorkflowExecutionResponse) []pendingActivity {
	var out []pendingActivity
	for _, p := range d.GetPendingActivities() {
		a := pendingActivity{
			Type:        p.GetActivityType().GetName(),
			State:       strings.TrimPrefix(p.GetState().String(), "PENDING_ACTIVITY_STATE_"),
			Attempt:     p.GetAttempt(),
			LastFailure: p.GetLastFailure().GetMessage(),
		}
		if t := p.GetNextAttemptScheduleTime(); t != nil && p.GetState() == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED {
			a.NextAttempt = timeOf(t.AsTime())
		}
		if t := p.GetLastStartedTime(); t != nil {
			a.LastStarted = timeOf(t.AsTime())
		}
		if t := p.GetLastAttemptCompleteTime(); t != nil {
			a.LastFinished = timeOf(t.AsTime())
		}
		if step, err := workflows.StepOf(a.Type); err == nil {
			a.Step = step
		}
		out = append(out, a)
	}
	return out
}

// failing returns the pending activities that have failed at least once,
// or all of them when none has.
func failing(pending []pendingActivity) []pendingActivity {
	var out []pendingActivity
	for _, p := range pending {
		if p.Attempt > 1 || p.LastFailure != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return pending
	}
	return out
}

// failingText says in a few words which activities are failing:
// "RefundPayment (compensation of ChargePayment), attempt 9: <last failure>".
func failingText(pending []pendingActivity, width int) string {
	var parts []string
	for _, p := range failing(pending) {
		s := p.Type
		if p.Step != "" && p.Step != p.Type {
			s += " (compensation of " + p.Step + ")"
		}
		s += ", attempt " + strconv.Itoa(int(p.Attempt))
		if p.LastFailure != "" {
			s += ": " + oneLine(p.LastFailure, width)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// writePending prints the pending activities as a table; now is the time
// next attempts are counted from.
func writePending(w io.Writer, pending []pendingActivity, now time.Time) {
	t := newTable(w, "ACTIVITY", "STEP", "STATE", "ATTEMPT", "NEXT ATTEMPT", "LAST FAILURE")
	for _, p := range pending {
		next := ""
		if p.NextAttempt != nil {
			next = p.NextAttempt.Local().Format(time.TimeOnly) + " (" + untilText(*p.NextAttempt, now) + ")"
		}
		t.row(p.Type, p.Step, p.State, strconv.Itoa(int(p.Attempt)), next, oneLine(p.LastFailure, 80))
	}
	t.flush()
}

// timeOf returns &t, or nil for the zero time (an unset timestamp).
func timeOf(t time.Time) *time.Time {
	if t.IsZero() || t.Unix() == 0 {
		return nil
	}
	return &t
}

// untilText renders how far t is from now: "in 12s", "3s ago".
func untilText(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d >= 0 {
		return "in " + d.String()
	}
	return (-d).String() + " ago"
}

// agoText renders a past moment with how long ago it was.
func agoText(t, now time.Time) string {
	return fmt.Sprintf("%s (%s)", t.Local().Format(time.DateTime), untilText(t, now))
}
