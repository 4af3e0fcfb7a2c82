package saga

// EventKind says what happened to a compensation.
type EventKind int

// The kinds of Event.
const (
	// Started: a round of the compensation began (the first round, a
	// round the server retries, or a round an operator asked for).
	Started EventKind = iota + 1
	// Retrying: a round failed with a retryable error; the compensation
	// is retried with a capped backoff until it succeeds.
	Retrying
	// Failed: the compensation failed for good (a non-retryable error).
	Failed
	// Compensated: the compensation succeeded.
	Compensated
	// Resolved: an operator declared the compensation done by hand
	// (Saga.Resolve); Event.By and Event.Reason say who and why.
	Resolved
)

// String returns the event kind's name.
func (k EventKind) String() string {
	switch k {
	case Started:
		return "started"
	case Retrying:
		return "retrying"
	case Failed:
		return "failed"
	case Compensated:
		return "compensated"
	case Resolved:
		return "resolved"
	}
	return "unknown"
}

// Event reports the progress of one compensation to Options.Observer.
type Event struct {
	Kind EventKind
	// Name is the name the compensation was registered with.
	Name string
	// Round counts the rounds of attempts so far, from 1.
	Round int
	// Err is the failure of the round, for Retrying and Failed.
	Err error
	// Result decodes the activity's result, for Compensated (nil otherwise).
	Result func(valuePtr any) error
	// By and Reason come from the operator, for Resolved.
	By, Reason string
}
