package main

import (
	"testing"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/sagaflow/sagaflow/workflows"
)

func TestScenarioCheck(t *testing.T) {
	s := scenario{Want: sagaclient.Compensated, WantStep: workflows.StepChargePayment}
	ok := sagaclient.Outcome{Kind: sagaclient.Compensated, State: workflows.SagaState{FailedStep: workflows.StepChargePayment}}
	if got := s.check(ok); got != "" {
		t.Errorf("check(expected outcome) = %q", got)
	}
	bad := sagaclient.Outcome{Kind: sagaclient.Compensated, State: workflows.SagaState{FailedStep: workflows.StepReserveStock}}
	if got, want := s.check(bad), "want compensated at ChargePayment, got compensated at ReserveStock"; got != want {
		t.Errorf("check = %q, want %q", got, want)
	}
}

func TestPlanBatch(t *testing.T) {
	f := batchFlags{count: 200, concurrency: 8, failShare: 0.3, seed: 42}
	a, err := planBatch(f, "b-x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := planBatch(f, "b-y")
	failing := 0
	regions := map[string]bool{}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Customer != b[i].Customer || a[i].Region != b[i].Region {
			t.Fatalf("order %d differs with the same seed: %+v vs %+v", i, a[i].scenario, b[i].scenario)
		}
		if a[i].Want != sagaclient.Completed {
			failing++
		}
		regions[a[i].Region] = true
	}
	if failing < 30 || failing > 90 {
		t.Errorf("%d of 200 orders planned to fail with a share of 0.3", failing)
	}
	if len(regions) != len(workflows.Regions) {
		t.Errorf("regions used: %v", regions)
	}
	for share, wantFailing := range map[float64]int{0: 0, 1: 50} {
		orders, err := planBatch(batchFlags{count: 50, failShare: share, seed: 1}, "b")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range orders {
			if o.Want != sagaclient.Completed {
				n++
			}
		}
		if n != wantFailing {
			t.Errorf("fail share %g: %d failing orders, want %d", share, n, wantFailing)
		}
	}
}
