// Package saga is a compensation stack for Temporal Go workflows: the
// workflow side of sagaflow's saga engine. (Its activity side, the
// idempotency barrier, is package saga/barrier.)
//
// A workflow registers the compensation of each step before it runs the
// step, because a step that timed out may still have happened. When a later
// step fails, or the workflow is cancelled, Compensate runs the registered
// compensations in reverse order (or all at once with Options.Parallel):
//
//	s := saga.New(ctx, saga.Options{})
//	s.Add("CancelOrder", a.CancelOrder, in)
//	if err := workflow.ExecuteActivity(ctx, a.CreateOrder, in).Get(ctx, nil); err != nil {
//		return errors.Join(err, s.Compensate())
//	}
//
// Compensations run on a disconnected context, so a cancelled saga still
// compensates. Each one is retried without an attempt limit: its activity
// retries a few times under Options.ActivityOptions, and when those attempts
// are spent the saga waits a capped, growing backoff and runs it again. Every
// failed round is reported to Options.Observer, so a compensation that keeps
// failing is visible in the workflow's state, never silent. Only a
// non-retryable error (the compensation's own business refusal) ends a
// compensation as failed; by default the others are still attempted and the
// errors are joined.
//
// The compensation activities must be idempotent and must treat undoing a
// step that never happened as a no-op; saga/barrier gives both.
package saga
