// Package saga is a compensation stack for Temporal Go workflows: the
// workflow side of sagaflow's saga engine. (Its activity side, the
// idempotency barrier, is package saga/pgbarrier for steps on PostgreSQL
// and saga/mongobarrier for steps on MongoDB, with the types both share in
// saga/barrier.) The engine is a Go module of its own,
// github.com/sagaflow/sagaflow/saga, that needs the Temporal SDK, pgx and
// the MongoDB driver, and nothing of the sagaflow application.
//
// A workflow registers the compensation of each step before it runs the
// step, because a step that timed out may still have happened. When a later
// step fails, or the workflow is cancelled, Compensate runs the registered
// compensations in reverse order (or all at once with Options.Parallel);
// Abort does that and returns the error to end the workflow with, keeping
// the failed step's error type and non-retryable flag:
//
//	s := saga.New(ctx, saga.Options{})
//	if err := s.Add("CancelOrder", a.CancelOrder, in); err != nil {
//		return err
//	}
//	if err := workflow.ExecuteActivity(ctx, a.CreateOrder, in).Get(ctx, nil); err != nil {
//		return s.Abort(err)
//	}
//
// Compensations run on a disconnected context, so a cancelled saga still
// compensates. Each one is retried until it succeeds, with a history that
// stays small however long that takes (see Persistent): a first round of
// attempts under Options.ActivityOptions, then retries by the Temporal
// server, without limit and with a capped backoff, which write no history
// event. The first failed round is reported to Options.Observer, so a
// compensation that keeps failing is visible in the workflow's state, never
// silent. Only a non-retryable error (the compensation's own business
// refusal, or a type in the retry policy's NonRetryableErrorTypes) ends a
// compensation as failed; by default the others are still attempted, and
// Compensate returns a *CompensationError listing the failures. An operator
// may retry a failing compensation at once (RetryNow) or declare it done by
// hand (Resolve), typically from a Workflow Update handler.
//
// The compensation activities must be idempotent and must treat undoing a
// step that never happened as a no-op; the barriers give both.
package saga
