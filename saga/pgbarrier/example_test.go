package pgbarrier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
)

// Seats is a service with one saga step on PostgreSQL: ReserveSeat takes a
// seat of a flight, ReleaseSeat (its compensation) gives it back. A saga's
// workflow runs them as activities, so either may run more than once, the
// compensation may come for a step that never ran, and a retry of the step
// may arrive after its compensation.
type Seats struct{ Pool *pgxpool.Pool }

// Migrate creates the service's table and, beside it, the barrier's.
func (s Seats) Migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := pgbarrier.CreateTable(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS seats (flight text PRIMARY KEY, free int NOT NULL);
			INSERT INTO seats VALUES ('LH123', 2) ON CONFLICT DO NOTHING`)
		return err
	})
}

// ReserveSeat is the step: its change and the barrier's row commit together.
func (s Seats) ReserveSeat(ctx context.Context, sagaID, flight string) (barrier.Outcome, error) {
	key := barrier.Key{SagaID: sagaID, Step: "ReserveSeat"}
	return pgbarrier.Forward(ctx, s.Pool, key, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE seats SET free = free - 1 WHERE flight = $1 AND free > 0`, flight)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("flight %s is full", flight) // rolls back the barrier row too
		}
		return err
	})
}

// ReleaseSeat is the step's compensation.
func (s Seats) ReleaseSeat(ctx context.Context, sagaID, flight string) (barrier.Outcome, error) {
	key := barrier.Key{SagaID: sagaID, Step: "ReserveSeat"}
	return pgbarrier.Compensate(ctx, s.Pool, key, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE seats SET free = free + 1 WHERE flight = $1`, flight)
		return err
	})
}

func (s Seats) free(ctx context.Context, flight string) int {
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT free FROM seats WHERE flight = $1`, flight).Scan(&n); err != nil {
		log.Fatal(err)
	}
	return n
}

func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	seats := Seats{Pool: pool}
	if err := seats.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	// Saga booking-1's step runs twice (a retry after a lost reply): one
	// seat is taken.
	for range 2 {
		out, err := seats.ReserveSeat(ctx, "booking-1", "LH123")
		fmt.Println("reserve:", out, err)
	}
	fmt.Println("free:", seats.free(ctx, "LH123"))

	// A later step of booking-1 fails: the compensation gives the seat back,
	// once however often it runs, and a late retry of the step is refused.
	for range 2 {
		out, err := seats.ReleaseSeat(ctx, "booking-1", "LH123")
		fmt.Println("release:", out, err)
	}
	_, err = seats.ReserveSeat(ctx, "booking-1", "LH123")
	fmt.Println("late reserve refused:", errors.Is(err, barrier.ErrCompensated))

	// Saga booking-2 is compensated before its step ran (the step timed
	// out): nothing is given back, and the step can no longer run.
	out, err := seats.ReleaseSeat(ctx, "booking-2", "LH123")
	fmt.Println("release booking-2:", out, err)
	_, err = seats.ReserveSeat(ctx, "booking-2", "LH123")
	fmt.Println("late reserve refused:", errors.Is(err, barrier.ErrCompensated))
	fmt.Println("free:", seats.free(ctx, "LH123"))
	// Output:
	// reserve: applied <nil>
	// reserve: duplicate <nil>
	// free: 1
	// release: applied <nil>
	// release: already-compensated <nil>
	// late reserve refused: true
	// release booking-2: null-compensation <nil>
	// late reserve refused: true
	// free: 2
}
