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
