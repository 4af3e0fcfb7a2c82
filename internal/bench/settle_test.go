package bench

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// settle vacuums and analyzes every table of the cell's schemas (and
// compacts its collections, which FerretDB turns into the same): each
// table's statistics then say it was vacuumed and analyzed by hand.
func TestSettleVacuumsEveryTable(t *testing.T) {
	cfg := testenv.Config(t, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx := testenv.Context(t)
	mc, err := mongostore.Connect(cfg.MongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx) //nolint:errcheck // closing
	st, err := openCellStores(ctx, cfg, mc, compactID(testenv.ID("settle")), 4, scaleCatalog())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.close(ctx); err != nil {
			t.Error(err)
		}
		if err := st.dropDocs(ctx); err != nil {
			t.Error(err)
		}
	}()
	if err := st.settle(ctx); err != nil {
		t.Fatal(err)
	}
	for db, pool := range map[string]*pgxpool.Pool{"inventory": st.inventoryPool, "payments": st.paymentsPool} {
		var tables, unsettled []string
		deadline := time.Now().Add(5 * time.Second) // statistics reach the view within a second
		for {
			rows, err := pool.Query(ctx, `SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL
				FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname`)
			if err != nil {
				t.Fatal(err)
			}
			tables, unsettled = nil, nil
			var name string
			var settled bool
			if _, err := pgx.ForEachRow(rows, []any{&name, &settled}, func() error {
				tables = append(tables, name)
				if !settled {
					unsettled = append(unsettled, name)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(unsettled) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(tables) == 0 || len(unsettled) > 0 {
			t.Errorf("%s database: tables %v, of which not vacuumed and analyzed by settle: %v", db, tables, unsettled)
		}
	}
}
