package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/services"
)

// ClaimOrder records, in the caller's transaction, that the saga sagaID
// holds the order orderID in this store, and refuses with
// services.ErrOrderExists when another saga holds it already: a new saga
// that reuses the id of an order whose saga Temporal has forgotten (its
// saga id differs, so the barrier cannot see the old saga's rows) must not
// reserve or charge that order a second time. Call it in a forward step's
// barrier transaction, before the step's effect; the claim commits or
// rolls back with the effect, and stays when the effect is compensated.
//
// The schema must have a table order_sagas (order_id primary key,
// saga_id). Two sagas claiming one order id at once serialize on its
// primary key: the second waits for the first to commit and is refused, or
// for it to roll back and takes the claim.
func ClaimOrder(ctx context.Context, tx pgx.Tx, sagaID, orderID string) error {
	tag, err := tx.Exec(ctx,
		`INSERT INTO order_sagas (order_id, saga_id) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`,
		orderID, sagaID)
	if err != nil {
		return fmt.Errorf("claim order %s: %w", orderID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// A statement of its own: under read committed it sees the claim that
	// the insert waited for.
	var owner string
	err = tx.QueryRow(ctx, `SELECT saga_id FROM order_sagas WHERE order_id = $1`, orderID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("claim order %s: claimed by a transaction this one cannot see yet; try again", orderID)
	}
	if err != nil {
		return fmt.Errorf("claim order %s: read its saga: %w", orderID, err)
	}
	if owner != sagaID {
		return fmt.Errorf("order %s belongs to saga %q, not %q: %w", orderID, owner, sagaID, services.ErrOrderExists)
	}
	return nil
}
