// Package payments is the payment service: customer accounts in PostgreSQL,
// charged for an order and refunded by its compensation.
//
// Balances move only through conditional single-statement updates
// (balance >= amount in the WHERE clause), so concurrent charges never
// overdraw an account and no lock is held beyond one local transaction.
package payments

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// StepCharge is the saga step whose barrier guards Charge and Refund.
const StepCharge = "ChargePayment"

//go:embed migrations/*.sql
var migrations embed.FS

// Service owns the payments database.
type Service struct {
	pool *pgxpool.Pool
}

// New returns a Service on pool. Call Migrate once before use.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Pool is the service's database, for readers of its records that the
// service does not serve (the read store's check).
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// Migrate creates or upgrades the schema, including the barrier table.
func (s *Service) Migrate(ctx context.Context) error {
	if _, err := pgstore.Apply(ctx, s.pool, migrations, "migrations", pgbarrier.CreateTable); err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	return nil
}

// Account is one customer's account.
type Account struct {
	CustomerID string `json:"customer_id"`
	// Credited is all money ever paid into the account, in minor units.
	Credited int64 `json:"credited"`
	Balance  int64 `json:"balance"`
}

// Charge captures amount (minor units) from the customer's account for the
// saga's order. A second call for the same saga does nothing; a call after
// Refund is refused with services.ErrStepCompensated; a call for an order id
// that another saga has charged (refunded or not) is refused with
// services.ErrOrderExists. An unknown customer gives
// services.ErrUnknownCustomer, a short balance services.ErrInsufficientFunds.
func (s *Service) Charge(ctx context.Context, sagaID, orderID, customerID string, amount int64) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	if err := services.ValidateID("customer_id", customerID); err != nil {
		return 0, err
	}
	if err := services.ValidateAmount("amount", amount); err != nil {
		return 0, err
	}
	key := barrier.Key{SagaID: sagaID, Step: StepCharge}
	out, err := pgbarrier.Forward(ctx, s.pool, key, func(tx pgx.Tx) error {
		// The order's claim, then the event, and the account row last,
		// debited and recorded in one statement: the row stays locked only
		// from its update to the commit.
		if err := pgstore.ClaimOrder(ctx, tx, sagaID, orderID); err != nil {
			return err
		}
		if err := pgstore.AppendEvent(ctx, tx, sagaID, orderID, services.EventPaymentCaptured,
			services.PaymentDetail{CustomerID: customerID, Amount: amount}); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx,
			`WITH debited AS (
				UPDATE accounts SET balance = balance - $1, updated_at = now()
				WHERE customer_id = $2 AND balance >= $1 RETURNING customer_id)
			 INSERT INTO payments (saga_id, order_id, customer_id, amount, status)
			 SELECT $3, $4, customer_id, $1, 'captured' FROM debited`, amount, customerID, sagaID, orderID)
		if err != nil {
			return fmt.Errorf("debit %s: %w", customerID, err)
		}
		if tag.RowsAffected() == 0 {
			return refusal(ctx, tx, customerID, amount)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("charge %s for %s: %w", customerID, orderID, pgstore.BusinessError(err))
	}
	return out, nil
}

// refusal explains why a debit matched no row.
func refusal(ctx context.Context, tx pgx.Tx, customerID string, amount int64) error {
	var balance int64
	err := tx.QueryRow(ctx, `SELECT balance FROM accounts WHERE customer_id = $1`, customerID).Scan(&balance)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("customer %q: %w", customerID, services.ErrUnknownCustomer)
	}
	if err != nil {
		return fmt.Errorf("read balance of %s: %w", customerID, err)
	}
	return fmt.Errorf("customer %q: %d needed, %d available: %w", customerID, amount, balance, services.ErrInsufficientFunds)
}

// Refund compensates Charge: the saga's captured payment goes back to the
// account. Refunding a charge that never happened records that and changes
// nothing (and a later Charge for the saga is refused); refunding twice
// refunds once.
func (s *Service) Refund(ctx context.Context, sagaID, orderID string) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	key := barrier.Key{SagaID: sagaID, Step: StepCharge}
	out, err := pgbarrier.Compensate(ctx, s.pool, key, func(tx pgx.Tx) error {
		var customerID string
		var amount int64
		err := tx.QueryRow(ctx,
			`UPDATE payments SET status = 'refunded', refunded_at = now()
			 WHERE saga_id = $1 AND status = 'captured' RETURNING customer_id, amount`, sagaID).
			Scan(&customerID, &amount)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the barrier says the charge ran; nothing captured is left to return
		}
		if err != nil {
			return fmt.Errorf("mark payment refunded: %w", err)
		}
		if _, err := tx.Exec(ctx,
			`UPDATE accounts SET balance = balance + $1, updated_at = now() WHERE customer_id = $2`,
			amount, customerID); err != nil {
			return fmt.Errorf("credit %s: %w", customerID, err)
		}
		return pgstore.AppendEvent(ctx, tx, sagaID, orderID, services.EventPaymentRefunded,
			services.PaymentDetail{CustomerID: customerID, Amount: amount})
	})
	if err != nil {
		return 0, fmt.Errorf("refund payment for %s: %w", orderID, err)
	}
	return out, nil
}

// Get returns one customer's account.
func (s *Service) Get(ctx context.Context, customerID string) (Account, error) {
	var a Account
	err := s.pool.QueryRow(ctx,
		`SELECT customer_id, credited, balance FROM accounts WHERE customer_id = $1`, customerID).
		Scan(&a.CustomerID, &a.Credited, &a.Balance)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("customer %q: %w", customerID, services.ErrUnknownCustomer)
	}
	if err != nil {
		return Account{}, fmt.Errorf("read account of %s: %w", customerID, err)
	}
	return a, nil
}

// Seed opens the accounts that do not exist yet with their balance;
// existing accounts are left as they are, so seeding twice changes nothing.
// It returns how many accounts it opened.
func (s *Service) Seed(ctx context.Context, accounts []Account) (int, error) {
	for i, a := range accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		if err := services.ValidateID(field+".customer_id", a.CustomerID); err != nil {
			return 0, err
		}
		if a.Balance < 0 || a.Balance > services.MaxAmount {
			return 0, services.Invalid(field+".balance", fmt.Sprintf("is %d, want 0 to %d", a.Balance, int64(services.MaxAmount)))
		}
	}
	opened := 0
	for _, a := range accounts {
		tag, err := s.pool.Exec(ctx,
			`INSERT INTO accounts (customer_id, credited, balance) VALUES ($1, $2, $2)
			 ON CONFLICT (customer_id) DO NOTHING`, a.CustomerID, a.Balance)
		if err != nil {
			return opened, fmt.Errorf("seed account %s: %w", a.CustomerID, err)
		}
		opened += int(tag.RowsAffected())
	}
	return opened, nil
}
