package readstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SourceLag is what the projector last measured of one source's backlog.
type SourceLag struct {
	Source string `json:"source"`
	// Events not yet in the read store, as counted at Measured.
	Events int `json:"events"`
	// Oldest is when the oldest of them occurred (zero: none).
	Oldest   time.Time `json:"oldest,omitzero"`
	Measured time.Time `json:"measured"`
}

// Seconds is how far behind the source the read store was at Measured.
func (l SourceLag) Seconds() float64 {
	if l.Events == 0 || l.Oldest.IsZero() {
		return 0
	}
	return max(0, l.Measured.Sub(l.Oldest).Seconds())
}

// RecordLag writes the measured backlog of each source, fenced by lease
// like every write.
func (s *Store) RecordLag(ctx context.Context, lease Lease, lags []SourceLag) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lease.fence(ctx, tx); err != nil {
			return err
		}
		for _, l := range lags {
			var oldest *time.Time
			if !l.Oldest.IsZero() {
				oldest = &l.Oldest
			}
			if _, err := tx.Exec(ctx, `INSERT INTO source_lag (source, events, oldest_at, measured_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (source) DO UPDATE SET events = EXCLUDED.events, oldest_at = EXCLUDED.oldest_at, measured_at = EXCLUDED.measured_at`,
				l.Source, l.Events, oldest, l.Measured); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read store: record lag: %w", err)
	}
	return nil
}

// Lag reads what the projector last measured of every source.
func (s *Store) Lag(ctx context.Context) ([]SourceLag, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, events, oldest_at, measured_at FROM source_lag ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("read store: read lag: %w", err)
	}
	lags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SourceLag, error) {
		var l SourceLag
		var oldest *time.Time
		err := row.Scan(&l.Source, &l.Events, &oldest, &l.Measured)
		if oldest != nil {
			l.Oldest = *oldest
		}
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read store: read lag: %w", err)
	}
	return lags, nil
}
