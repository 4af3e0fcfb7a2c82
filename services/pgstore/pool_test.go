package pgstore_test

import (
	"strconv"
	"testing"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// TestOpenPoolBoundsSessions: a session of OpenPool's is ended by the
// server after pgstore.SessionBound idle in a transaction, and gives up on
// a client that does not acknowledge after as long.
func TestOpenPoolBoundsSessions(t *testing.T) {
	ctx := testenv.Context(t)
	cfg := testenv.Config(t, config.EnvInventoryURL)
	pool, err := pgstore.OpenPool(ctx, "inventory", cfg.InventoryURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	want := strconv.FormatInt(pgstore.SessionBound.Milliseconds(), 10)
	for _, setting := range []string{"idle_in_transaction_session_timeout", "tcp_user_timeout"} {
		var ms, unit string
		if err := pool.QueryRow(ctx, `SELECT setting, unit FROM pg_settings WHERE name = $1`, setting).Scan(&ms, &unit); err != nil {
			t.Fatal(err)
		}
		if ms != want || unit != "ms" {
			t.Errorf("%s = %s %s, want %s ms", setting, ms, unit, want)
		}
	}
}
