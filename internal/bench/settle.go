package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// settleTimeout bounds the compaction of one cell's MongoDB collections.
const settleTimeout = 15 * time.Minute

// settle vacuums and analyzes the cell's tables and collections once a
// prefill has grown them. A store that reached a million orders over
// months was vacuumed and analyzed as it grew (autovacuum); one grown by
// 900,000 orders in four minutes is not, and autovacuum's first passes over
// the new rows (hint bits, the visibility map, statistics) then run for
// minutes: in a scale run they overlapped the throughput cell measured
// after the prefill to 1,000,000 orders. Settling first measures the size,
// not the bulk load. FerretDB runs VACUUM ANALYZE on a collection's table
// for the compact command (on MongoDB, compact defragments the collection).
func (s *cellStores) settle(ctx context.Context) error {
	for _, p := range []struct {
		db   string
		pool *pgxpool.Pool
	}{{"inventory", s.inventoryPool}, {"payments", s.paymentsPool}} {
		rows, err := p.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
		if err != nil {
			return fmt.Errorf("settle the %s database: list the tables: %w", p.db, err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("settle the %s database: list the tables: %w", p.db, err)
		}
		for _, t := range tables {
			// VACUUM runs outside a transaction: the simple protocol sends it alone.
			if _, err := p.pool.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{t}.Sanitize(), pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("settle the %s database: vacuum %s: %w", p.db, t, err)
			}
		}
	}
	// A deadline of its own: the client's 30 s per operation applies only
	// to a context without one, and a vacuum of a million documents' table
	// may take longer.
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for _, coll := range []string{orders.Collection, shipping.Collection} {
		if err := s.mongoDB.RunCommand(ctx, bson.D{{Key: "compact", Value: coll}}).Err(); err != nil {
			return fmt.Errorf("settle MongoDB database %s: compact %s: %w", s.mongoDB.Name(), coll, err)
		}
	}
	return nil
}
