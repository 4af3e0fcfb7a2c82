package sagalog

import (
	"errors"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// The SDK's own log keys (go.temporal.io/sdk/internal's logging tags) that
// SDK reads.
const (
	sdkWorkflowID   = "WorkflowID"
	sdkActivityID   = "ActivityID"
	sdkActivityType = "ActivityType"
	sdkAttempt      = "Attempt"
	sdkResult       = "Result"
)

// SDK wraps the logger given to the Temporal client (client.Options.Logger),
// from which the SDK derives every logger it uses, the activities' and the
// workflows' included.
//
// The SDK writes some lines about a saga itself, such as "Activity error."
// for every failed activity attempt, naming WorkflowID, ActivityType and
// Attempt: SDK adds saga_id and order_id to every line that names a
// workflow, step to every line that names an activity type, and attempt
// where that line (or its activity's logger) names the activity's attempt.
// A field already on a logger (Interceptor adds them too) is not added
// twice. Every error value goes through SafeError and an activity's result
// is withheld, so a business refusal's message ("customer alice: 500
// needed, 20 available") or a step's result never reaches a log.
func SDK(l log.Logger) log.Logger { return &sdkLogger{next: l} }

// sdkLogger is SDK's logger; has holds the saga fields its chain of With
// calls already added.
type sdkLogger struct {
	next log.Logger
	has  map[string]bool
}

var (
	_ log.Logger     = (*sdkLogger)(nil)
	_ log.WithLogger = (*sdkLogger)(nil)
)

func (l *sdkLogger) Debug(msg string, keyvals ...any) { l.next.Debug(msg, l.line(keyvals)...) }
func (l *sdkLogger) Info(msg string, keyvals ...any)  { l.next.Info(msg, l.line(keyvals)...) }
func (l *sdkLogger) Warn(msg string, keyvals ...any)  { l.next.Warn(msg, l.line(keyvals)...) }
func (l *sdkLogger) Error(msg string, keyvals ...any) { l.next.Error(msg, l.line(keyvals)...) }

// With returns a logger that adds keyvals, made safe and with the saga's
// fields they imply, to every line.
func (l *sdkLogger) With(keyvals ...any) log.Logger {
	keyvals = Redact(keyvals)
	kept := make([]any, 0, len(keyvals))
	for i := 0; i+1 < len(keyvals); i += 2 {
		if key, ok := keyvals[i].(string); ok && l.has[key] {
			continue // a saga field this logger carries already
		}
		kept = append(kept, keyvals[i], keyvals[i+1])
	}
	if len(keyvals)%2 == 1 {
		kept = append(kept, keyvals[len(keyvals)-1])
	}
	_, activityLogger := lookup(kept, sdkActivityID)
	kept = l.enrich(kept, activityLogger)
	has := make(map[string]bool, 4)
	for k := range l.has {
		has[k] = true
	}
	for i := 0; i+1 < len(kept); i += 2 {
		if key, ok := kept[i].(string); ok && isSagaField(key) {
			has[key] = true
		}
	}
	return &sdkLogger{next: log.With(l.next, kept...), has: has}
}

// line makes a line's keyvals safe and adds the saga fields they imply.
func (l *sdkLogger) line(keyvals []any) []any {
	return l.enrich(Redact(keyvals), true)
}

// enrich appends to keyvals the saga fields they imply and this logger
// lacks: saga_id and order_id for a WorkflowID, step for an ActivityType
// and, when withAttempt, attempt for an Attempt beside it.
func (l *sdkLogger) enrich(keyvals []any, withAttempt bool) []any {
	if id, ok := lookup(keyvals, sdkWorkflowID); ok && !l.has[FieldSagaID] {
		if id, _ := id.(string); id != "" {
			keyvals = append(keyvals, sagaFields(id)...)
		}
	}
	step, ok := lookup(keyvals, sdkActivityType)
	if !ok {
		return keyvals
	}
	if !l.has[FieldStep] {
		keyvals = append(keyvals, FieldStep, step)
	}
	if attempt, ok := lookup(keyvals, sdkAttempt); ok && withAttempt && !l.has[FieldAttempt] {
		keyvals = append(keyvals, FieldAttempt, attempt)
	}
	return keyvals
}

// lookup returns the value of key in keyvals.
func lookup(keyvals []any, key string) (any, bool) {
	for i := 0; i+1 < len(keyvals); i += 2 {
		if keyvals[i] == key {
			return keyvals[i+1], true
		}
	}
	return nil, false
}

func isSagaField(key string) bool {
	return key == FieldSagaID || key == FieldOrderID || key == FieldStep || key == FieldAttempt
}

// Redact returns keyvals with every error value replaced by SafeError's
// text and the SDK's Result (an activity's result) withheld. keyvals is
// not modified.
func Redact(keyvals []any) []any {
	out := make([]any, len(keyvals))
	copy(out, keyvals)
	for i := 1; i < len(out); i += 2 {
		if out[i-1] == sdkResult {
			out[i] = "(withheld)"
			continue
		}
		if err, ok := out[i].(error); ok {
			out[i] = SafeError(err)
		}
	}
	return out
}

// SafeError is the text of err fit for a log line. A business refusal (a
// non-retryable application error: its message may hold balances, amounts
// or addresses) is reduced to its code; any other error keeps its message.
func SafeError(err error) string {
	if err == nil {
		return ""
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return "business refusal " + appErr.Type() + " (message withheld)"
	}
	return err.Error()
}
