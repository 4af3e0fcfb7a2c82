package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/workflows"
)

// defaults are the operator flags as cobra leaves them when none is given.
func defaults() operatorFlags { return operatorFlags{concurrency: 8, timeout: 30 * time.Second} }

func TestResolveChecksItsFlagsBeforeSending(t *testing.T) {
	cases := []struct {
		name    string
		f       func(*operatorFlags)
		wantErr string // "" for a valid command line
		want    workflows.ResolveRequest
	}{
		{"compensation name", func(f *operatorFlags) { f.step, f.reason = "refundpayment", " refunded by bank transfer " }, "",
			workflows.ResolveRequest{Step: "refundpayment", Operator: "ada", Reason: "refunded by bank transfer"}},
		{"step name", func(f *operatorFlags) { f.step, f.reason = "CreateShipment", "cancelled with the carrier" }, "",
			workflows.ResolveRequest{Step: "CreateShipment", Operator: "ada", Reason: "cancelled with the carrier"}},
		{"no step", func(f *operatorFlags) { f.reason = "x" }, "--step is required", workflows.ResolveRequest{}},
		{"unknown step", func(f *operatorFlags) { f.step, f.reason = "Refund", "x" }, `--step: unknown step "Refund"`, workflows.ResolveRequest{}},
		{"the pivot", func(f *operatorFlags) { f.step, f.reason = "ConfirmOrder", "x" }, "it is the pivot", workflows.ResolveRequest{}},
		{"read-only step", func(f *operatorFlags) { f.step, f.reason = "PriceOrder", "x" }, "has no compensation", workflows.ResolveRequest{}},
		{"no reason", func(f *operatorFlags) { f.step = "RefundPayment" }, "--reason is required", workflows.ResolveRequest{}},
		{"blank reason", func(f *operatorFlags) { f.step, f.reason = "RefundPayment", "  " }, "--reason is required", workflows.ResolveRequest{}},
	}
	for _, tc := range cases {
		f := defaults()
		tc.f(&f)
		op, err := resolveOperation(f, "ada", false)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || op.request != tc.want || op.verb != "resolve" {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, op.request, err, tc.want)
		}
	}
}

func TestRetryChecksItsFlags(t *testing.T) {
	f := defaults()
	op, err := retryOperation(f, "ada", false)
	if err != nil || op.request != (workflows.RetryRequest{Operator: "ada"}) {
		t.Errorf("no step: %+v, %v", op.request, err)
	}
	f.step, f.operator = "cancelshipment", "bob"
	if op, err = retryOperation(f, "ada", true); err != nil || op.request != (workflows.RetryRequest{Step: "cancelshipment", Operator: "bob"}) {
		t.Errorf("--step cancelshipment --operator bob: %+v, %v", op.request, err)
	}
	f.step = "Nope"
	if _, err := retryOperation(f, "ada", true); err == nil || !strings.Contains(err.Error(), `--step: unknown step "Nope"`) {
		t.Errorf("unknown step: %v", err)
	}
}

func TestOperatorName(t *testing.T) {
	if n, err := operatorName("", false, "ada"); n != "ada" || err != nil {
		t.Errorf("default: %q, %v; want the OS user", n, err)
	}
	if n, err := operatorName(" bob ", true, "ada"); n != "bob" || err != nil {
		t.Errorf("--operator bob: %q, %v", n, err)
	}
	if _, err := operatorName(" ", true, "ada"); err == nil || !strings.Contains(err.Error(), "--operator is empty") {
		t.Errorf("--operator '': %v", err)
	}
}

func TestOrderAndQueryAreExclusive(t *testing.T) {
	f := defaults()
	if _, err := targetOf(nil, f); err == nil || !strings.Contains(err.Error(), "give the ORDER") {
		t.Errorf("neither: %v", err)
	}
	f.query = `SagaStatus="COMPENSATION_FAILING"`
	if _, err := targetOf([]string{"o-1"}, f); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both: %v", err)
	}
	if o, err := targetOf(nil, f); o != "" || err != nil {
		t.Errorf("query: %q, %v", o, err)
	}
	f.query, f.yes = "", true
	if _, err := targetOf([]string{"o-1"}, f); err == nil || !strings.Contains(err.Error(), "--yes goes with --query") {
		t.Errorf("ORDER --yes: %v", err)
	}
	f.yes, f.concurrency = false, 0
	if _, err := targetOf([]string{"o-1"}, f); err == nil || !strings.Contains(err.Error(), "--concurrency") {
		t.Errorf("--concurrency 0: %v", err)
	}
}

// The commands refuse a bad command line before they dial: this cli has no
// Temporal to reach, so any attempt to send would fail otherwise.
func TestOperatorCommandsRefuseBeforeDialing(t *testing.T) {
	for _, args := range [][]string{
		{"resolve", "o-1", "--reason", "x"},
		{"resolve", "o-1", "--step", "RefundPayment"},
		{"resolve", "o-1", "--step", "ConfirmOrder", "--reason", "x"},
		{"resolve", "o-1", "--step", "RefundPayment", "--reason", "x", "--query", "SagaStatus=\"COMPENSATION_FAILING\""},
		{"retry", "o-1", "--step", "Nope"},
		{"retry"},
	} {
		var out, errOut bytes.Buffer
		c := &cli{out: &out, errOut: &errOut, user: "ada"}
		c.cfg.TemporalAddress = "127.0.0.1:1"
		root := c.rootCommand()
		root.SetArgs(args)
		err := root.ExecuteContext(t.Context())
		if err == nil || strings.Contains(err.Error(), "cannot reach Temporal") {
			t.Errorf("%v: %v; want a refusal of the command line", args, err)
		}
	}
}

func TestFailCompensation(t *testing.T) {
	cases := []struct{ name, failAt, step, at, wantErr string }{
		{"RefundPayment", "", "ChargePayment", "ConfirmOrder", ""},
		{"cancelshipment", "CreateShipment", "CreateShipment", "CreateShipment", ""},
		{"ReleaseStock", "ChargePayment", "ReserveStock", "ChargePayment", ""},
		{"CancelOrder", "CreateOrder", "CreateOrder", "CreateOrder", ""},
		{"ConfirmOrder", "", "", "", "ConfirmOrder has no compensation"},
		{"PriceOrder", "", "", "", "PriceOrder has no compensation"},
		{"Refund", "", "", "", `unknown step "Refund"`},
		{"CancelShipment", "ChargePayment", "", "", "fails before CreateShipment registers its compensation CancelShipment"},
	}
	for _, tc := range cases {
		step, at, err := failCompensation(tc.name, tc.failAt)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s at %q: %v; want an error containing %q", tc.name, tc.failAt, err, tc.wantErr)
			}
			continue
		}
		if err != nil || step != tc.step || at != tc.at {
			t.Errorf("%s at %q: %s at %s, %v; want %s at %s", tc.name, tc.failAt, step, at, err, tc.step, tc.at)
		}
	}
}

func TestPlaceFailCompensationSetsTheDemo(t *testing.T) {
	f := placeFlags{customer: "alice", region: "eu", items: []string{"SKU-1:1"}, failCompensation: "RefundPayment"}
	in, err := f.input()
	if err != nil || in.Demo.FailCompensation != workflows.StepChargePayment || in.Demo.FailAt != workflows.StepConfirmOrder {
		t.Fatalf("demo %+v, %v", in.Demo, err)
	}
}

func TestActedText(t *testing.T) {
	r := actionReport{OrderID: "o-1", Action: &workflows.ActionResult{Step: "ChargePayment", Compensation: "RefundPayment",
		Outcome: workflows.ActionResolved, Status: workflows.StatusCompensating}}
	if got, want := actedText(r), "order o-1: resolved RefundPayment (the compensation of ChargePayment) by hand: it is no longer retried; the saga is now COMPENSATING"; got != want {
		t.Errorf("resolved:\n%s\nwant\n%s", got, want)
	}
	r.Action = &workflows.ActionResult{Step: "ConfirmOrder", Outcome: workflows.ActionRetried, Status: workflows.StatusPivotStuck}
	if got, want := actedText(r), "order o-1: retried ConfirmOrder (the pivot) now; the saga is now PIVOT_STUCK"; got != want {
		t.Errorf("retried:\n%s\nwant\n%s", got, want)
	}
}

func TestBulkQueryOnlyRunningSagas(t *testing.T) {
	got := bulkQuery(`SagaStatus="COMPENSATION_FAILING" OR SagaStatus="PIVOT_STUCK"`)
	want := `WorkflowType = "OrderSaga" AND ExecutionStatus = "Running" AND (SagaStatus="COMPENSATION_FAILING" OR SagaStatus="PIVOT_STUCK")`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestStatusShowsFailingAndResolvedSteps(t *testing.T) {
	now := time.Now()
	s := sagaStatus{OrderID: "o-1", State: workflows.SagaState{OrderID: "o-1", Status: workflows.StatusCompensationFailing, Steps: []workflows.StepState{
		{Name: "ChargePayment", Status: workflows.StepCompensating, Compensation: "RefundPayment", FailingSince: now.Add(-90 * time.Second)},
		{Name: "CreateShipment", Status: workflows.StepResolved, Compensation: "CancelShipment",
			Resolution: &workflows.Resolution{By: "ada", Reason: "cancelled with the carrier", At: now}},
	}}, Pending: []pendingActivity{{Type: "RefundPayment", Step: "ChargePayment", State: "SCHEDULED", Attempt: 7,
		LastFailure: "payments unavailable", NextAttempt: timeOf(now.Add(20 * time.Second))}}}
	var b bytes.Buffer
	writeStatus(&b, s)
	for _, want := range []string{
		"RefundPayment (compensation of ChargePayment) failing since", "(1m30s ago)",
		"CancelShipment (compensation of CreateShipment) resolved by hand by ada at", ": cancelled with the carrier",
		"pending activities", "RefundPayment  ChargePayment  SCHEDULED  7", "payments unavailable", "(in 20s)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}

// verify cannot tell an effect left by hand from a breach without Temporal:
// it says so and exits 2, as for an unreadable store.
func TestVerifyWithoutTemporal(t *testing.T) {
	var out, errOut bytes.Buffer
	c := &cli{out: &out, errOut: &errOut}
	c.cfg.TemporalAddress, c.cfg.TemporalNamespace = "127.0.0.1:1", "default"
	root := c.rootCommand()
	root.SetArgs([]string{"verify"})
	err := root.ExecuteContext(t.Context())
	if err == nil || errors.Is(err, errBreach) || !strings.Contains(err.Error(), "list the sagas resolved by hand") ||
		!strings.Contains(err.Error(), "cannot reach Temporal at 127.0.0.1:1") {
		t.Errorf("error = %v; want one (exit 2) saying the resolutions cannot be listed", err)
	}
	if out.Len() > 0 {
		t.Errorf("printed a report:\n%s", out.String())
	}
}
