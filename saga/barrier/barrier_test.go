package barrier_test

import (
	"slices"
	"testing"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

func TestProtectedHasAWorkflowsSagas(t *testing.T) {
	p := barrier.NewProtected("order-1", "a/b")
	for sagaID, want := range map[string]bool{
		"order-1":        true,  // the bare workflow id
		"order-1/run-9":  true,  // workflow id / first run id
		"order-1/x/run":  false, // another workflow's (order-1/x)
		"order-10":       false,
		"order-2/run-9":  false,
		"a/b":            true,
		"a/b/run-1":      true,
		"a/run-1":        false,
		"":               false,
		"order-1-run":    false,
		"x/order-1":      false,
		"order-1/run-9/": false,
	} {
		if got := p.Has(sagaID); got != want {
			t.Errorf("Has(%q) = %v, want %v", sagaID, got, want)
		}
	}
	if ids := p.IDs(); !slices.Equal(ids, []string{"a/b", "order-1"}) {
		t.Errorf("IDs() = %v", ids)
	}
}

func TestBatchLimit(t *testing.T) {
	for limit, want := range map[int]int{-1: barrier.DefaultPruneBatch, 0: barrier.DefaultPruneBatch, 1: 1, 7: 7} {
		if got := barrier.BatchLimit(limit); got != want {
			t.Errorf("BatchLimit(%d) = %d, want %d", limit, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	if got := (barrier.Key{SagaID: "order-1/r", Step: "ReserveStock"}).String(); got != "order-1/r/ReserveStock" {
		t.Errorf("Key.String() = %q", got)
	}
	for o, want := range map[barrier.Outcome]string{barrier.Applied: "applied", barrier.Duplicate: "duplicate",
		barrier.NullCompensation: "null-compensation", barrier.AlreadyCompensated: "already-compensated", 0: "unknown"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}
