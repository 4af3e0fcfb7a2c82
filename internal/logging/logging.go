// Package logging builds sagaflow's one zap logger and adapts it to the
// Temporal SDK's logger interface, so the SDK, the workflows (through
// workflow.GetLogger) and the activities (activity.GetLogger) all log
// through zap.
package logging

import (
	"fmt"
	"io"
	"os"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// Formats a logger can write.
const (
	FormatAuto    = "auto" // console on a terminal, JSON otherwise
	FormatConsole = "console"
	FormatJSON    = "json"
)

// New returns a logger writing to w (os.Stderr when nil) in format at level
// ("debug", "info", "warn", "error").
func New(format, level string, w io.Writer) (*zap.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	if format == FormatAuto {
		format = FormatJSON
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = FormatConsole
		}
	}
	var enc zapcore.Encoder
	switch format {
	case FormatJSON:
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(cfg)
	case FormatConsole:
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(cfg)
	default:
		return nil, fmt.Errorf("log format %q: want auto, console or json", format)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), lvl)), nil
}

// Temporal adapts z to the SDK's log.Logger.
func Temporal(z *zap.Logger) log.Logger {
	return &temporalLogger{z: z.WithOptions(zap.AddCallerSkip(1))}
}

type temporalLogger struct{ z *zap.Logger }

var (
	_ log.Logger     = (*temporalLogger)(nil)
	_ log.WithLogger = (*temporalLogger)(nil)
)

func (l *temporalLogger) Debug(msg string, keyvals ...any) { l.z.Debug(msg, fields(keyvals)...) }
func (l *temporalLogger) Info(msg string, keyvals ...any)  { l.z.Info(msg, fields(keyvals)...) }
func (l *temporalLogger) Warn(msg string, keyvals ...any)  { l.z.Warn(msg, fields(keyvals)...) }
func (l *temporalLogger) Error(msg string, keyvals ...any) { l.z.Error(msg, fields(keyvals)...) }

// With returns a logger that adds keyvals to every line.
func (l *temporalLogger) With(keyvals ...any) log.Logger {
	return &temporalLogger{z: l.z.With(fields(keyvals)...)}
}

// fields turns SDK key-value pairs into zap fields; an odd trailing value
// is kept under "extra".
func fields(keyvals []any) []zap.Field {
	out := make([]zap.Field, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			out = append(out, zap.Any("extra", keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		out = append(out, zap.Any(key, keyvals[i+1]))
	}
	return out
}
