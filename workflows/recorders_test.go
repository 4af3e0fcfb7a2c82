package workflows_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// logRecorder is a slog.Handler that keeps every line the saga logs.
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
	attrs []slog.Attr
}

// logLine is one log line: its level, message and attributes as text.
type logLine struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := logLine{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.attrs {
		line.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		line.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.lines = append(l.lines, line)
	return nil
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &logView{l: l, attrs: append(slices.Clone(l.attrs), attrs...)}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// logView is the logRecorder with attributes of its own.
type logView struct {
	l     *logRecorder
	attrs []slog.Attr
}

func (v *logView) Enabled(context.Context, slog.Level) bool { return true }
func (v *logView) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(v.attrs...)
	return v.l.Handle(ctx, r)
}
func (v *logView) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logView{l: v.l, attrs: append(slices.Clone(v.attrs), attrs...)}
}
func (v *logView) WithGroup(string) slog.Handler { return v }

// find returns the lines whose message is msg.
func (l *logRecorder) find(msg string) []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, line := range l.lines {
		if line.Msg == msg {
			out = append(out, line)
		}
	}
	return out
}

// atLeast returns the saga's lines of level or above (not the SDK's lines
// about activities, which name an ActivityType).
func (l *logRecorder) atLeast(level slog.Level) []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, line := range l.lines {
		if _, sdk := line.Attrs["ActivityType"]; line.Level >= level && !sdk {
			out = append(out, line)
		}
	}
	return out
}

// metricsRecorder is a client.MetricsHandler that sums the saga's counters
// (sagaflow_*) by name and tags: "name{k=v,...}".
type metricsRecorder struct {
	mu     sync.Mutex
	counts map[string]int64
	tags   map[string]string
	root   *metricsRecorder
}

func (m *metricsRecorder) top() *metricsRecorder {
	if m.root != nil {
		return m.root
	}
	return m
}

func (m *metricsRecorder) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(m.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &metricsRecorder{tags: merged, root: m.top()}
}

func (m *metricsRecorder) Counter(name string) client.MetricsCounter {
	return counterFunc(func(d int64) {
		if !strings.HasPrefix(name, "sagaflow_") {
			return
		}
		key := name
		// The SDK adds namespace, task_queue and workflow_type: keep the saga's own tags.
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m.tags)) {
			if k != "namespace" && k != "task_queue" && k != "workflow_type" {
				parts = append(parts, k+"="+m.tags[k])
			}
		}
		if len(parts) > 0 {
			key += "{" + strings.Join(parts, ",") + "}"
		}
		r := m.top()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.counts == nil {
			r.counts = map[string]int64{}
		}
		r.counts[key] += d
	})
}

func (m *metricsRecorder) Gauge(string) client.MetricsGauge { return gaugeFunc(func(float64) {}) }
func (m *metricsRecorder) Timer(string) client.MetricsTimer { return timerFunc(func(time.Duration) {}) }

// snapshot returns the counters as "name{tags}=n", sorted.
func (m *metricsRecorder) snapshot() []string {
	r := m.top()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, v := range r.counts {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(out)
	return out
}

type counterFunc func(int64)

func (c counterFunc) Inc(d int64) { c(d) }

type gaugeFunc func(float64)

func (g gaugeFunc) Update(v float64) { g(v) }

type timerFunc func(time.Duration)

func (t timerFunc) Record(d time.Duration) { t(d) }
