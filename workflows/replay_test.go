package workflows_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/workflows"
)

// TestReplayRecordedHistories replays histories recorded on the real dev
// server through the current OrderSaga, so that a change to the workflow
// that would break sagas still running on an older build fails here. Every
// build's histories stay:
//   - v1-*.json: before sagas started with their search attributes
//     (OrderInput.AttributesAtStart);
//   - v2-*.json and local-*.json: before versions (workflows/versions.go)
//     and server-retried compensations: a success, a compensation, a
//     cancellation, compensations retried in timer rounds, and sagas taken
//     mid-flight (mid-step, paused before a step, mid-compensation-retry,
//     the pivot retrying, with and without local steps);
//   - success.json, compensation.json, cancellation.json: the current
//     build (recordEnv in e2e_test.go), and v3-compensation-resolved.json,
//     a compensation retried by the server until an operator resolved it
//     (TestHistoryCountBoundsTheServer).
//
// To record the current build's again: SAGAFLOW_RECORD_HISTORIES=$PWD/testdata
// go test -run 'TestFiftyOrders|TestHistoryCountBoundsTheServer' ./workflows,
// after renaming the files it would overwrite to the previous build's prefix.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 19 {
		t.Fatalf("want the 19 recorded histories in testdata, found %v", files)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.OrderSaga, workflow.RegisterOptions{Name: "OrderSaga"})
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
