package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/workflows"
)

// minCleanupMargin is the smallest --cleanup-margin taken: the margin
// covers late activity attempts after a saga closed (a minute at most),
// clock skew between the stores, the workers and Temporal, and visibility
// lag; less than an hour leaves too little room for a clock set wrong.
const minCleanupMargin = time.Hour

// cleanupSettings are the retention cleanup's flags.
type cleanupSettings struct {
	enabled  bool
	interval time.Duration
	margin   time.Duration
	batch    int
}

func (c cleanupSettings) validate() error {
	if !c.enabled {
		return nil
	}
	switch {
	case c.interval < time.Minute:
		return fmt.Errorf("--cleanup-interval %s: want at least 1m", c.interval)
	case c.margin < minCleanupMargin:
		return fmt.Errorf("--cleanup-margin %s: want at least %s", c.margin, minCleanupMargin)
	case c.batch < 1:
		return fmt.Errorf("--cleanup-batch %d: want at least 1", c.batch)
	}
	return nil
}

// startCleanup serves the cleanup's task queue and creates or updates its
// schedule. With the cleanup off it does neither, and leaves an existing
// schedule alone (pause or delete it to stop the cleanup everywhere).
func startCleanup(ctx context.Context, c client.Client, cfg config.Config, st *stores.Stores, rs *readstore.Store, cs cleanupSettings, opts workers.Options, log *zap.Logger) (*workers.Pool, error) {
	if !cs.enabled {
		log.Info("retention cleanup off (--cleanup=false): not serving it, its schedule left as it is")
		return &workers.Pool{}, nil
	}
	acts := activities.NewCleanup(c, cfg.TemporalNamespace, []string{workflows.OrderSagaType},
		st.Inventory, st.Payments, st.Orders, st.Shipping, rs.Position)
	pool, err := workers.StartCleanup(c, acts, "", opts)
	if err != nil {
		return nil, err
	}
	sched := workers.CleanupSchedule{
		Interval: cs.interval,
		Input:    workflows.CleanupInput{Margin: cs.margin, BatchSize: cs.batch},
	}
	go ensureSchedule(ctx, c, sched, cs, log)
	return pool, nil
}

// scheduleRetry is the wait between two attempts to ensure the cleanup's
// schedule.
const scheduleRetry = 30 * time.Second

// ensureSchedule creates or updates the cleanup's schedule, trying again
// every scheduleRetry until it succeeds or ctx ends: a worker that starts
// while Temporal is away (a restart, a deploy) serves its sagas at once
// and gets the schedule in place when Temporal answers.
func ensureSchedule(ctx context.Context, c client.Client, sched workers.CleanupSchedule, cs cleanupSettings, log *zap.Logger) {
	for {
		created, err := workers.EnsureCleanupSchedule(ctx, c, sched)
		if err == nil {
			verb := "updated"
			if created {
				verb = "created"
			}
			log.Info("retention cleanup scheduled", zap.String("schedule", workers.CleanupScheduleID), zap.String("schedule_was", verb),
				zap.Duration("interval", cs.interval), zap.Duration("margin", cs.margin), zap.Int("batch", cs.batch),
				zap.String("task_queue", workers.CleanupTaskQueue))
			return
		}
		log.Warn("retention cleanup: cannot create or update its schedule; trying again", zap.Error(err),
			zap.Duration("in", scheduleRetry), zap.String("schedule", workers.CleanupScheduleID))
		select {
		case <-ctx.Done():
			return
		case <-time.After(scheduleRetry):
		}
	}
}

// envBool reads a boolean variable, def when unset; see envInt.
func envBool(getenv func(string) string, key string, def bool, prev error) (bool, error) {
	raw := getenv(key)
	if raw == "" {
		return def, prev
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		if prev == nil {
			prev = fmt.Errorf("%s=%q is not true or false", key, raw)
		}
		return def, prev
	}
	return v, prev
}

// envDuration reads a duration variable ("1h30m"), def when unset; see
// envInt.
func envDuration(getenv func(string) string, key string, def time.Duration, prev error) (time.Duration, error) {
	raw := getenv(key)
	if raw == "" {
		return def, prev
	}
	v, err := time.ParseDuration(raw)
	if err != nil {
		if prev == nil {
			prev = fmt.Errorf("%s=%q is not a duration", key, raw)
		}
		return def, prev
	}
	return v, prev
}
