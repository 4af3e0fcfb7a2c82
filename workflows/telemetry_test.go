package workflows_test

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/workflows"
)

// The saga's counters, by how it ends: started and completed, compensated
// or rejected by failed step ("none" for invalid input), compensation
// rounds that failed (final=false) or were refused (final=true), and
// sagas whose compensation was refused.
func TestMetricsCountHowSagasEnd(t *testing.T) {
	invalid := validOrder()
	invalid.CustomerID = ""
	cases := []struct {
		name string
		f    *fakes
		in   workflows.OrderInput
		want []string
	}{
		{"completed", &fakes{}, validOrder(), []string{"sagaflow_saga_completed=1", "sagaflow_saga_started=1"}},
		{"compensated", &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS")},
			failTimes: map[string]int{}, down: map[string]time.Duration{"RefundPayment": 10 * time.Second}}, validOrder(),
			[]string{
				"sagaflow_compensation_failures{compensation=RefundPayment,final=false}=1",
				"sagaflow_saga_compensated{failed_step=CreateShipment}=1", "sagaflow_saga_started=1",
			}},
		{"rejected by PriceOrder", &fakes{fail: map[string]error{"PriceOrder": business("UNKNOWN_SKU")}}, validOrder(),
			[]string{"sagaflow_saga_rejected{failed_step=PriceOrder}=1", "sagaflow_saga_started=1"}},
		{"invalid", &fakes{}, invalid, []string{"sagaflow_saga_rejected{failed_step=none}=1", "sagaflow_saga_started=1"}},
		{"compensation refused", &fakes{fail: map[string]error{"ReserveStock": business("OUT_OF_STOCK"), "CancelOrder": business("ORDER_SHIPPED")}},
			validOrder(), []string{
				"sagaflow_compensation_failures{compensation=CancelOrder,final=true}=1",
				"sagaflow_saga_compensation_failed=1", "sagaflow_saga_started=1",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, c.f)
			outcome(t, env, c.in)
			if got := c.f.metrics.snapshot(); !slices.Equal(got, c.want) {
				t.Fatalf("counters %v, want %v", got, c.want)
			}
		})
	}
}

// The saga logs each step's end, its failure by code only (a business
// message may hold amounts), each compensation's progress, and one "saga
// ended" line with the final status; no error unless a compensation is
// refused.
func TestLogsFollowTheSaga(t *testing.T) {
	f := &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS"), "CancelOrder": business("ORDER_SHIPPED")},
		down: map[string]time.Duration{"RefundPayment": 10 * time.Second}}
	env := newEnv(t, f)
	state, _ := outcome(t, env, validOrder())
	if state.Status != workflows.StatusCompensationFailed {
		t.Fatalf("state %+v", state)
	}
	failed := f.logs.find("step failed")
	if len(failed) != 1 || failed[0].Attrs["step"] != "CreateShipment" || failed[0].Attrs["code"] != "INVALID_ADDRESS" {
		t.Fatalf("step failed lines %+v, want one for CreateShipment with its code", failed)
	}
	done := f.logs.find("step done")
	var steps []string
	for _, l := range done {
		if l.Attrs["outcome"] != "applied" || l.Attrs["attempt"] != "1" {
			t.Errorf("step done %+v", l)
		}
		steps = append(steps, l.Attrs["step"])
	}
	slices.Sort(steps)
	if want := []string{"ChargePayment", "CreateOrder", "PriceOrder", "ReserveStock"}; !slices.Equal(steps, want) {
		t.Fatalf("step done for %v, want %v", steps, want)
	}
	retrying := f.logs.find("compensation round failed, retrying after a backoff")
	if len(retrying) != 1 || retrying[0].Level != slog.LevelWarn || retrying[0].Attrs["compensation"] != "RefundPayment" ||
		retrying[0].Attrs["code"] != "INFRASTRUCTURE" || retrying[0].Attrs["round"] != "1" {
		t.Fatalf("retrying lines %+v", retrying)
	}
	errs := f.logs.atLeast(slog.LevelError)
	if len(errs) != 1 || errs[0].Msg != "compensation failed for good" || errs[0].Attrs["compensation"] != "CancelOrder" ||
		errs[0].Attrs["code"] != "ORDER_SHIPPED" || errs[0].Attrs["step"] != "CreateOrder" {
		t.Fatalf("error lines %+v, want one: CancelOrder refused", errs)
	}
	if n := len(f.logs.find("compensation done")); n != 3 {
		t.Fatalf("%d compensation done lines, want 3", n)
	}
}

// Exactly one "saga ended" line per saga, with its final status.
func TestOneSagaEndedLinePerSaga(t *testing.T) {
	invalid := validOrder()
	invalid.Region = "mars"
	for _, c := range []struct {
		name   string
		f      *fakes
		in     workflows.OrderInput
		status workflows.SagaStatus
		step   string
	}{
		{"completed", &fakes{}, validOrder(), workflows.StatusCompleted, ""},
		{"compensated", &fakes{fail: map[string]error{"ChargePayment": business("INSUFFICIENT_FUNDS")}}, validOrder(), workflows.StatusCompensated, "ChargePayment"},
		{"rejected", &fakes{}, invalid, workflows.StatusRejected, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, c.f)
			outcome(t, env, c.in)
			ended := c.f.logs.find("saga ended")
			if len(ended) != 1 || ended[0].Attrs["status"] != string(c.status) || ended[0].Attrs["failed_step"] != c.step {
				t.Fatalf("saga ended lines %+v, want one with %s", ended, c.status)
			}
			if errs := c.f.logs.atLeast(slog.LevelError); len(errs) > 0 {
				t.Fatalf("error lines %+v", errs)
			}
		})
	}
}
