package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AppendEvent records a domain event in the caller's transaction, so the
// event exists exactly when the change it describes does. The service's
// schema must have an events table (saga_id, order_id, kind, detail jsonb).
func AppendEvent(ctx context.Context, tx pgx.Tx, sagaID, orderID, kind string, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", kind, err)
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO events (saga_id, order_id, kind, detail) VALUES ($1, $2, $3, $4)`,
		sagaID, orderID, kind, body); err != nil {
		return fmt.Errorf("append %s event: %w", kind, err)
	}
	return nil
}

// DuplicateEvent is an event kind recorded more than once for one saga: an
// effect that happened twice.
type DuplicateEvent struct {
	SagaID string `json:"saga_id"`
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
}

// DuplicateEvents lists every (saga, kind) with more than one event. Each
// step and compensation appends exactly one event per saga in the
// transaction of its effect, so any row here is an effect applied twice.
func DuplicateEvents(ctx context.Context, q pgx.Tx) ([]DuplicateEvent, error) {
	rows, err := q.Query(ctx, `SELECT saga_id, kind, count(*)::int FROM events GROUP BY saga_id, kind HAVING count(*) > 1 ORDER BY saga_id, kind`)
	if err != nil {
		return nil, fmt.Errorf("read duplicate events: %w", err)
	}
	dups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DuplicateEvent])
	if err != nil {
		return nil, fmt.Errorf("read duplicate events: %w", err)
	}
	return dups, nil
}
