package sagaclient

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// StartOptions are the options that start the saga of a validated order:
// its workflow id and region's task queue; one saga per order (a running
// saga is returned by the conflict policy, a closed one refused by the
// reuse policy); the search attributes set at start, so the order is listed
// at once; and the summary and details the Web UI shows. It returns the input
// to start the saga with: in, marked AttributesAtStart, so the saga does not
// set those attributes a second time.
func StartOptions(in workflows.OrderInput) (client.StartWorkflowOptions, workflows.OrderInput) {
	in.AttributesAtStart = true
	return client.StartWorkflowOptions{
		ID:                                       workflows.WorkflowID(in.OrderID),
		TaskQueue:                                workflows.TaskQueue(in.Region),
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrOrderID.ValueSet(in.OrderID),
			workflows.AttrCustomerID.ValueSet(in.CustomerID),
			workflows.AttrSagaStatus.ValueSet(string(workflows.StatusRunning)),
		),
		StaticSummary: in.Summary(),
		StaticDetails: in.Details(),
	}, in
}
