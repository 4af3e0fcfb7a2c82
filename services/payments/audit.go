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
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	rows, err := tx.Query(ctx, `
		SELECT a.customer_id, a.credited, a.balance,
		       COALESCE((SELECT sum(p.amount) FROM payments p WHERE p.customer_id = a.customer_id AND p.status = 'captured'), 0)::bigint
		FROM accounts a ORDER BY a.customer_id`)
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
	rows, err = tx.Query(ctx, `SELECT saga_id, order_id, customer_id, amount, status FROM payments`)
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: read payments: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Payment])
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: read payments: %w", err)
	}
	bySaga := make(map[string]Payment, len(list))
	for _, p := range list {
		bySaga[p.SagaID] = p
	}
	dups, err := pgstore.DuplicateEvents(ctx, tx)
	if err != nil {
		return Audit{}, fmt.Errorf("payments audit: %w", err)
	}
	return Audit{Accounts: accounts, Payments: bySaga, Duplicates: dups}, nil
}
