package sagalog_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/observability/sagalog"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestSagaLogLines runs sagas through a real worker logging to an observed
// zap core at debug level: one that completes, one refused for
// insufficient funds (its error text holds the balance and the amount) and
// one that fails at the shipment. Every line about a saga must name it and
// its order, every line of an activity its step and attempt, and no line
// may hold an amount, a balance, the street or a database password.
func TestSagaLogLines(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	z := zap.New(core)
	e := sagatest.Start(t, sagatest.Options{
		Dial:         temporalclient.Options{Logger: sagalog.SDK(logging.Temporal(z))},
		Interceptors: []interceptor.WorkerInterceptor{sagalog.Interceptor()},
	})

	ok := sagatest.Order(sagatest.Rich, 3)
	poor := sagatest.Order(sagatest.Poor, 2)
	failed := sagatest.Order(sagatest.Rich, 4)
	failed.Demo.FailAt = workflows.StepCreateShipment
	if _, end := e.Run(ok); end != "" {
		t.Fatalf("%s ended %s, want completed", ok.OrderID, end)
	}
	if s, end := e.Run(poor); end != workflows.ErrTypeCompensated || s.FailedStep != workflows.StepChargePayment {
		t.Fatalf("%s ended %s at %s, want compensated at ChargePayment", poor.OrderID, end, s.FailedStep)
	}
	if s, end := e.Run(failed); end != workflows.ErrTypeCompensated || s.FailedStep != workflows.StepCreateShipment {
		t.Fatalf("%s ended %s at %s, want compensated at CreateShipment", failed.OrderID, end, s.FailedStep)
	}

	// What must never show: the orders' amounts (in minor units and as
	// money), the poor customer's balance, the street, the passwords.
	var secrets []string
	for _, qty := range []int64{3, 2, 4} {
		amount := qty * sagatest.UnitPrice
		secrets = append(secrets, strconv.FormatInt(amount, 10), fmt.Sprintf("%d.%02d", amount/100, amount%100))
	}
	secrets = append(secrets, strconv.Itoa(sagatest.PoorBalance), sagatest.Street)
	for _, raw := range []string{e.Config.InventoryURL, e.Config.PaymentsURL, e.Config.MongoURI} {
		if u, err := url.Parse(raw); err == nil {
			if pw, set := u.User.Password(); set && pw != "" {
				secrets = append(secrets, pw)
			}
		}
	}

	ours := map[string]string{} // saga id -> order id
	for _, in := range []workflows.OrderInput{ok, poor, failed} {
		ours[workflows.WorkflowID(in.OrderID)] = in.OrderID
	}
	seen := map[string]int{}
	for _, entry := range logs.All() {
		line := render(t, entry)
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("log line holds %q: %s", s, line)
			}
		}
		fields := entry.ContextMap()
		sagaID, _ := fields[sagalog.FieldSagaID].(string)
		if wid, named := fields["WorkflowID"].(string); named && sagaID == "" && ours[wid] != "" {
			t.Errorf("line about saga %s has no saga_id: %s", wid, line)
		}
		if ours[sagaID] == "" {
			continue
		}
		if fields[sagalog.FieldOrderID] != ours[sagaID] {
			t.Errorf("line of %s has order_id %v, want %s: %s", sagaID, fields[sagalog.FieldOrderID], ours[sagaID], line)
		}
		if _, named := fields["ActivityType"]; named && fields[sagalog.FieldStep] == nil {
			t.Errorf("line naming an activity without step: %s", line)
		}
		if activityLines[entry.Message] && (fields[sagalog.FieldStep] == nil || fields[sagalog.FieldAttempt] == nil) {
			t.Errorf("activity line without step and attempt: %s", line)
		}
		if (entry.Message == "step done" || entry.Message == "step failed") && (fields[sagalog.FieldStep] == nil || fields[sagalog.FieldAttempt] == nil) {
			t.Errorf("workflow step line without step and attempt: %s", line)
		}
		for _, f := range entry.Context {
			if n := keys(entry.Context, f.Key); n > 1 {
				t.Errorf("field %s appears %d times: %s", f.Key, n, line)
				break
			}
		}
		seen[entry.Message]++
	}
	// The lines this test is about were written at all.
	for _, msg := range []string{"step started", "step done", "step failed", "step refused", "compensation started", "compensation done", "saga ended", "Activity error."} {
		if seen[msg] == 0 {
			t.Errorf("no %q line about our sagas; seen %v", msg, seen)
		}
	}
	refused := logs.FilterMessage("step refused").All()
	for _, entry := range refused {
		f := entry.ContextMap()
		if f["code"] == nil || f[sagalog.FieldStep] == nil || f[sagalog.FieldAttempt] == nil || f[sagalog.FieldSagaID] == nil || f[sagalog.FieldOrderID] == nil {
			t.Errorf("step refused line without code and the four fields: %s", render(t, entry))
		}
	}
}

// activityLines are the messages written in an activity, by the SDK or
// the activities: each must carry step and attempt.
var activityLines = map[string]bool{"Activity error.": true, "step refused": true, "step failed, will be retried": true}

// keys counts the fields named key.
func keys(fields []zapcore.Field, key string) int {
	n := 0
	for _, f := range fields {
		if f.Key == key {
			n++
		}
	}
	return n
}

// render encodes an entry as the worker's JSON log would.
func render(t *testing.T, entry observer.LoggedEntry) string {
	t.Helper()
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "" // a timestamp's digits could match a figure by chance
	enc := zapcore.NewJSONEncoder(cfg)
	buf, err := enc.EncodeEntry(entry.Entry, entry.Context)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String())
}
