package workflows

import "go.temporal.io/sdk/workflow"

// The saga's code versions. A change to OrderSaga that changes the commands
// it sends (an activity, timer or search attribute added, removed or moved)
// would break the sagas still running on the old code: their histories no
// longer replay. Such a change keeps the old code path and takes the new one
// only in sagas started on a build that knows it. Every saga records, when it
// starts, the version of the build that started it (workflow.GetVersion with
// changeOrderSaga), and branches on it:
//
//	if r.version >= versionSagaIDPerRun { new code } else { old code }
//
// To change the saga: add the next constant, raise orderSagaVersion to it,
// branch on it, record a history of the new code in testdata (the replay
// test keeps every build's), and keep the old branch until no saga of the
// old version runs (temporal workflow list --query
// 'TemporalChangeVersion="order-saga-1"' finds them; sagas started before
// versions existed carry none). README, "Changing the saga's code".
const changeOrderSaga = "order-saga"

// The versions of OrderSaga, each naming what it changed.
const (
	// versionSagaIDPerRun: the saga id is the workflow id and the run
	// chain's first run id (see sagaID); before, the workflow id alone.
	versionSagaIDPerRun workflow.Version = 1
	// versionFinalStatuses: a saga whose compensation failed for good ends
	// COMPENSATION_FAILED; before, it ended COMPENSATION_FAILING.
	versionFinalStatuses workflow.Version = 1
)

// orderSagaVersion is the version new sagas start on.
const orderSagaVersion = versionFinalStatuses
