package main

import (
	"strings"
	"testing"
)

func TestListQuery(t *testing.T) {
	cases := []struct{ status, customer, want string }{
		{"", "", `WorkflowType = "OrderSaga"`},
		{"COMPLETED", "", `WorkflowType = "OrderSaga" AND SagaStatus = "COMPLETED"`},
		{"compensation_failing", "", `WorkflowType = "OrderSaga" AND SagaStatus = "COMPENSATION_FAILING"`},
		{"PIVOT_STUCK", "", `WorkflowType = "OrderSaga" AND SagaStatus = "PIVOT_STUCK"`},
		{"compensation_failed", "", `WorkflowType = "OrderSaga" AND SagaStatus = "COMPENSATION_FAILED"`},
		{"COMPENSATED_BY_HAND", "", `WorkflowType = "OrderSaga" AND SagaStatus = "COMPENSATED_BY_HAND"`},
		{"", "cust-001", `WorkflowType = "OrderSaga" AND CustomerId = "cust-001"`},
		{"REJECTED", "carol", `WorkflowType = "OrderSaga" AND SagaStatus = "REJECTED" AND CustomerId = "carol"`},
		{"", "O'Brien OR 1=1", ""},
	}
	for _, tc := range cases {
		got, err := listQuery(tc.status, tc.customer)
		if tc.want == "" {
			if err == nil {
				t.Errorf("listQuery(%q, %q) = %q, want an error", tc.status, tc.customer, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("listQuery(%q, %q) = %q, %v; want %q", tc.status, tc.customer, got, err, tc.want)
		}
	}
}

func TestListQueryRejects(t *testing.T) {
	for _, customer := range []string{`a"b`, `x" OR CustomerId != "`, "a'b", `a\b`, "a`b", "a\nb", "a\x00b"} {
		_, err := listQuery("", customer)
		if err == nil || !strings.Contains(err.Error(), "--customer") {
			t.Errorf("customer %q: error = %v; want a refusal naming --customer", customer, err)
		}
	}
	for _, status := range []string{"DONE", "RUNNING\"", "COMPLETED OR 1=1"} {
		_, err := listQuery(status, "")
		if err == nil || !strings.Contains(err.Error(), "--status") || !strings.Contains(err.Error(), "COMPENSATED") {
			t.Errorf("status %q: error = %v; want a refusal listing the statuses", status, err)
		}
	}
}
