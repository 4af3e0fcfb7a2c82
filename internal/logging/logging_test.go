package logging_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/internal/logging"
)

func TestTemporalAdapterWritesStructuredJSON(t *testing.T) {
	var buf bytes.Buffer
	z, err := logging.New(logging.FormatAuto, "info", &buf) // a buffer is no terminal: JSON
	if err != nil {
		t.Fatal(err)
	}
	l := logging.Temporal(z)
	l.Debug("hidden", "k", 1)
	l.(log.WithLogger).With("order_id", "o1").Info("step done", "step", "ReserveStock", "attempt", 2, "odd")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line (debug filtered), got %q", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "step done" || rec["order_id"] != "o1" || rec["step"] != "ReserveStock" || rec["attempt"] != float64(2) || rec["extra"] != "odd" {
		t.Fatalf("record %v", rec)
	}
}

func TestBadSettingsAreRefused(t *testing.T) {
	if _, err := logging.New("xml", "info", nil); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("format: %v", err)
	}
	if _, err := logging.New(logging.FormatJSON, "loud", nil); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Fatalf("level: %v", err)
	}
}
