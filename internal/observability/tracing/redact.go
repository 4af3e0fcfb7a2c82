package tracing

import (
	"errors"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sagaflow/sagaflow/internal/observability/sagalog"
)

// redactedSpan records errors as the logs show them (sagalog.SafeError):
// a business refusal's message, which can hold balances and amounts, never
// reaches the span's exception event or status.
type redactedSpan struct {
	trace.Span
	// original and safe are the last error recorded and its safe text,
	// which SetStatus uses in place of the original message.
	original, safe string
}

func (s *redactedSpan) RecordError(err error, opts ...trace.EventOption) {
	if err == nil {
		s.Span.RecordError(err, opts...)
		return
	}
	s.original, s.safe = err.Error(), sagalog.SafeError(err)
	if s.safe != s.original {
		err = errors.New(s.safe)
	}
	s.Span.RecordError(err, opts...)
}

func (s *redactedSpan) SetStatus(code codes.Code, description string) {
	if s.original != "" && description == s.original {
		description = s.safe
	}
	s.Span.SetStatus(code, description)
}
