package inventory

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// SKUAudit is one SKU's counters next to its ledger.
type SKUAudit struct {
	Level
	// LedgerReserved is the sum of the SKU's reservation lines still held.
	LedgerReserved int64 `json:"ledger_reserved"`
}

// Balanced reports whether the SKU conserves stock (available + reserved =
// total) and its reserved counter matches the ledger.
func (a SKUAudit) Balanced() bool {
	return a.Available+a.Reserved == a.Total && a.Reserved == a.LedgerReserved &&
		a.Available >= 0 && a.Reserved >= 0
}

// Reservation is the state of one saga's reservation.
type Reservation struct {
	SagaID  string          `json:"saga_id"`
	OrderID string          `json:"order_id"`
	Held    []services.Item `json:"held"`     // lines still reserved
	Freed   []services.Item `json:"released"` // lines released
}

// Audit is what the inventory store holds, as the invariant checker reads it.
type Audit struct {
	SKUs []SKUAudit
	// Reservations are keyed by saga id.
	Reservations map[string]*Reservation
	// Duplicates are effects recorded twice for one saga.
	Duplicates []pgstore.DuplicateEvent
}

// Audit reads every SKU with its ledger total, every saga's reservation and
// every duplicated effect, in one repeatable-read snapshot.
func (s *Service) Audit(ctx context.Context) (Audit, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	rows, err := tx.Query(ctx, `
		SELECT s.sku, s.unit_price, s.total, s.available, s.reserved,
		       COALESCE((SELECT sum(r.quantity) FROM reservations r WHERE r.sku = s.sku AND r.status = 'reserved'), 0)::bigint
		FROM stock s ORDER BY s.sku`)
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: read stock: %w", err)
	}
	skus, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SKUAudit, error) {
		var a SKUAudit
		err := r.Scan(&a.SKU, &a.UnitPrice, &a.Total, &a.Available, &a.Reserved, &a.LedgerReserved)
		return a, err
	})
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: read stock: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT saga_id, order_id, sku, quantity, status FROM reservations ORDER BY saga_id, sku`)
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: read reservations: %w", err)
	}
	defer rows.Close()
	res := map[string]*Reservation{}
	for rows.Next() {
		var sagaID, orderID, status string
		var it services.Item
		if err := rows.Scan(&sagaID, &orderID, &it.SKU, &it.Quantity, &status); err != nil {
			return Audit{}, fmt.Errorf("inventory audit: read reservations: %w", err)
		}
		r := res[sagaID]
		if r == nil {
			r = &Reservation{SagaID: sagaID, OrderID: orderID}
			res[sagaID] = r
		}
		if status == "reserved" {
			r.Held = append(r.Held, it)
		} else {
			r.Freed = append(r.Freed, it)
		}
	}
	if err := rows.Err(); err != nil {
		return Audit{}, fmt.Errorf("inventory audit: read reservations: %w", err)
	}
	rows.Close()
	dups, err := pgstore.DuplicateEvents(ctx, tx)
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: %w", err)
	}
	return Audit{SKUs: skus, Reservations: res, Duplicates: dups}, nil
}
