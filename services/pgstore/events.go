package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// AppendEvent records a domain event in the caller's transaction, so the
// event exists exactly when the change it describes does. The service's
// schema must have an events table (saga_id, order_id, kind, detail jsonb,
// and tx_id, the writing transaction's id, by default: see ReadEvents).
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

// Position is where a reader of a service's event log stands: the last
// event it consumed, as the id of the transaction that wrote it and the
// event's id. The zero Position is before every event.
type Position struct {
	TxID uint64 `json:"tx_id"`
	ID   int64  `json:"id"`
}

// PositionAfterAll is after every event: the position of a reader that has
// read them all, for stores without a read side (a benchmark's).
var PositionAfterAll = Position{TxID: math.MaxInt64, ID: math.MaxInt64}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	return p.TxID < q.TxID || (p.TxID == q.TxID && p.ID < q.ID)
}

// Event is one domain event as ReadEvents returns it.
type Event struct {
	Position   Position
	OccurredAt time.Time
	SagaID     string
	OrderID    string
	Kind       string
	Detail     json.RawMessage
}

// readEvents reads the events after ($1, $2) of transactions older than the
// oldest still running: all of them have ended, so no event can still
// commit at a position at or before the last one returned.
const readEvents = `SELECT tx_id::text::bigint, id, occurred_at, saga_id, order_id, kind, detail
	FROM events
	WHERE (tx_id, id) > ($1::text::xid8, $2) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
	ORDER BY tx_id, id
	LIMIT $3`

// ReadEvents returns at most limit events after pos, in position order.
// It never returns an event of a transaction that is still open, nor one
// behind an event of such a transaction: a transaction that takes an event
// id and commits after a later id was read (the trap of ordered outboxes)
// holds back every later position until it ends, so resuming from the last
// position returned never skips an event. The price: one long write
// transaction anywhere in the cluster delays the reader until it ends.
func ReadEvents(ctx context.Context, db Querier, after Position, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read events: limit %d is not positive", limit)
	}
	rows, err := db.Query(ctx, readEvents, strconv.FormatUint(after.TxID, 10), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("read events after %v: %w", after, err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		var tx int64
		err := row.Scan(&tx, &e.Position.ID, &e.OccurredAt, &e.SagaID, &e.OrderID, &e.Kind, &e.Detail)
		e.Position.TxID = uint64(tx)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read events after %v: %w", after, err)
	}
	return events, nil
}

// Backlog is what a reader at a position has still to read.
type Backlog struct {
	// Events is the number of committed events after the position, counted
	// up to the limit Pending was given.
	Events int
	// Oldest is when the first of them occurred (zero when there is none).
	Oldest time.Time
}

// Pending counts the committed events after pos, up to limit, and finds
// when the first of them occurred: the reader's lag.
func Pending(ctx context.Context, db Querier, after Position, limit int) (Backlog, error) {
	var b Backlog
	var oldest *time.Time
	err := db.QueryRow(ctx, `SELECT count(*)::int, min(occurred_at) FROM (
		SELECT occurred_at FROM events WHERE (tx_id, id) > ($1::text::xid8, $2)
		ORDER BY tx_id, id LIMIT $3) AS pending`,
		strconv.FormatUint(after.TxID, 10), after.ID, limit).Scan(&b.Events, &oldest)
	if err != nil {
		return Backlog{}, fmt.Errorf("count events after %v: %w", after, err)
	}
	if oldest != nil {
		b.Oldest = *oldest
	}
	return b, nil
}

// Querier is what ReadEvents and Pending read through: a pool, a
// connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
