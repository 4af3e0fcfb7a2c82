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
	res := map[string]*Reservation{}
	a, err := s.AuditEach(ctx, func(r Reservation) error {
		res[r.SagaID] = &r
		return nil
	})
	if err != nil {
		return Audit{}, err
	}
	a.Reservations = res
	return a, nil
}

// AuditEach reads what Audit reads, in one repeatable-read snapshot, but
// hands the sagas' reservations to each, one saga at a time, instead of
// keeping them: the Audit it returns has no Reservations, and memory holds
// one saga's lines however many the ledger holds. The sagas come in saga id
// order, compared byte by byte (as Go compares strings), their lines in SKU
// order. An error from each stops the read and is returned as is.
func (s *Service) AuditEach(ctx context.Context, each func(Reservation) error) (Audit, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	// The ledger summed in one pass over the reservations (no index on sku
	// serves a sum per SKU).
	rows, err := tx.Query(ctx, `
		SELECT s.sku, s.unit_price, s.total, s.available, s.reserved, COALESCE(l.held, 0)::bigint
		FROM stock s
		LEFT JOIN (SELECT sku, sum(quantity) AS held FROM reservations WHERE status = 'reserved' GROUP BY sku) l
		       ON l.sku = s.sku
		ORDER BY s.sku`)
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
	if err := eachReservation(ctx, tx, each); err != nil {
		return Audit{}, err
	}
	dups, err := pgstore.DuplicateEvents(ctx, tx)
	if err != nil {
		return Audit{}, fmt.Errorf("inventory audit: %w", err)
	}
	return Audit{SKUs: skus, Duplicates: dups}, nil
}

// eachReservation reads the reservation lines in saga id order and calls
// each once per saga with its lines.
func eachReservation(ctx context.Context, tx pgx.Tx, each func(Reservation) error) error {
	rows, err := tx.Query(ctx, `SELECT saga_id, order_id, sku, quantity, status FROM reservations
		ORDER BY saga_id COLLATE "C", sku COLLATE "C"`)
	if err != nil {
		return fmt.Errorf("inventory audit: read reservations: %w", err)
	}
	defer rows.Close()
	var cur *Reservation
	for rows.Next() {
		var sagaID, orderID, status string
		var it services.Item
		if err := rows.Scan(&sagaID, &orderID, &it.SKU, &it.Quantity, &status); err != nil {
			return fmt.Errorf("inventory audit: read reservations: %w", err)
		}
		if cur != nil && cur.SagaID != sagaID {
			if err := each(*cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &Reservation{SagaID: sagaID, OrderID: orderID}
		}
		if status == "reserved" {
			cur.Held = append(cur.Held, it)
		} else {
			cur.Freed = append(cur.Freed, it)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("inventory audit: read reservations: %w", err)
	}
	if cur != nil {
		return each(*cur)
	}
	return nil
}
