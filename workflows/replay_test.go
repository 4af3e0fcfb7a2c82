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
// server (a success, a compensation, a cancellation, see recordEnv in
// e2e_test.go; the same three recorded before OrderInput.AttributesAtStart
// existed, v1-*.json; and, with local steps, a success and an out-of-stock
// compensation taken from a benchmark run with `temporal workflow show -o
// json`) through the current OrderSaga. A change to the workflow that would
// break running sagas fails here.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("want the eight recorded histories in testdata, found %v", files)
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
