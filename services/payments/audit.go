package payments

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/services/pgstore"
)

// AccountAudit is one account's counters next to its payments.
type AccountAudit struct {
	Account
	// Captured is the sum of the account's payments still captured.
	Captured int64 `json:"captured"`
}

// Balanced reports whether the account conserves money:
// balance + captured = credited, and the balance is not negative.
func (a AccountAudit) Balanced() bool {
	return a.Balance+a.Captured == a.Credited && a.Balance >= 0
}

// Payment is one saga's payment.
type Payment struct {
	SagaID     string `json:"saga_id"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	Amount     int64  `json:"amount"`
	// Status is "captured" or "refunded".
	Status string `json:"status"`
}

// Audit is what the payments store holds, as the invariant checker reads it.
type Audit struct {
	Accounts []AccountAudit
	// Payments are keyed by saga id.
	Payments map[string]Payment
	// Duplicates are effects recorded twice for one saga.
	Duplicates []pgstore.DuplicateEvent
}

// Audit reads every account with the sum of its captured payments, every
// saga's payment and every duplicated effect, in one repeatable-read snapshot.
func (s *Service) Audit(ctx context.Context) (Audit, error) {
	bySaga := map[string]Payment{}
	a, err := s.AuditEach(ctx, func(p Payment) error {
		bySaga[p.SagaID] = p
		return nil
	})
	if err != nil {
		return Audit{}, err
	}
	a.Payments = bySaga
	return a, nil
}

// AuditEach reads what Audit reads, in one repeatable-read snapshot, but
// hands the payments to each, one at a time, instead of keeping them: the
// Audit it returns has no Payments, and memory holds one payment however
// many the store holds. The payments come in saga id order, compared byte
// by byte (as Go compares strings). An error from each stops the read and
// is returned as is.
func (s *Service) AuditEach(ctx context.Context, each func(Payment) error) (Audit, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	rows, err := tx.Query(ctx, `
		SELECT a.customer_id, a.credited, a.balance, COALESCE(c.captured, 0)::bigint
		FROM accounts a
		LEFT JOIN (SELECT customer_id, sum(amount) AS captured FROM payments WHERE status = 'captured' GROUP BY customer_id) c
		       ON c.customer_id = a.customer_id
		ORDER BY a.customer_id`)
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: read accounts: %w", err)
	}
	accounts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountAudit, error) {
		var a AccountAudit
		err := r.Scan(&a.CustomerID, &a.Credited, &a.Balance, &a.Captured)
		return a, err
	})
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: read accounts: %w", err)
	}
	if err := eachPayment(ctx, tx, each); err != nil {
		return Audit{}, err
	}
	dups, err := pgstore.DuplicateEvents(ctx, tx)
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: %w", err)
	}
	return Audit{Accounts: accounts, Duplicates: dups}, nil
}

func eachPayment(ctx context.Context, tx pgx.Tx, each func(Payment) error) error {
	rows, err := tx.Query(ctx, `SELECT saga_id, order_id, customer_id, amount, status FROM payments ORDER BY saga_id COLLATE "C"`)
	if err != nil {
		return fmt.Errorf("payments audit: read payments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Payment
		if err := rows.Scan(&p.SagaID, &p.OrderID, &p.CustomerID, &p.Amount, &p.Status); err != nil {
			return fmt.Errorf("payments audit: read payments: %w", err)
		}
		if err := each(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("payments audit: read payments: %w", err)
	}
	return nil
}
