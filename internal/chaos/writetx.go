package chaos

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/services/pgstore"
)

// WriteTx is a write transaction seen open: its session has written (it
// has a transaction id), so it may hold row locks.
type WriteTx struct {
	Database string    `json:"database"`
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	// Open is how long it had been open when last seen.
	Open  time.Duration `json:"open_ns"`
	State string        `json:"state"`
	// Query is the start of its latest statement.
	Query string `json:"query"`
}

// WriteTxs is what the sampler saw over a run.
type WriteTxs struct {
	// Samples counts the queries of pg_stat_activity, one per database
	// every second; Failed those that failed (a database outage).
	Samples int     `json:"samples"`
	Failed  int     `json:"failed_samples"`
	Longest WriteTx `json:"longest"`
	// Slow are the transactions seen open for slowTx or longer, each once,
	// with the longest it was seen open.
	Slow []WriteTx `json:"open_1s_or_more"`
}

// slowTx is how long a write transaction must have been open to be listed
// in WriteTxs.Slow (the services' transactions take milliseconds).
const slowTx = time.Second

// writeTxQuery lists the open write transactions of the database's sessions
// that the role sees (its own), the sampler's excepted.
const writeTxQuery = `SELECT pid, xact_start, extract(epoch FROM clock_timestamp() - xact_start)::float8,
		coalesce(state, ''), left(coalesce(query, ''), 160)
	FROM pg_stat_activity
	WHERE backend_xid IS NOT NULL AND datname = current_database() AND pid <> pg_backend_pid()`

// sampleWriteTxs samples, every second until stop is called, the open
// write transactions of each database in dbs (by name), and returns what
// it saw. A failed sample (the database down) is counted and skipped.
func sampleWriteTxs(ctx context.Context, dbs map[string]pgstore.Querier) (stop func() WriteTxs) {
	ctx, cancel := context.WithCancel(ctx)
	var seen WriteTxs
	var wg sync.WaitGroup
	wg.Go(func() {
		slow := map[txKey]int{}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			for _, name := range slices.Sorted(maps.Keys(dbs)) {
				txs, err := openWriteTxs(ctx, name, dbs[name])
				if ctx.Err() != nil {
					return
				}
				seen.Samples++
				if err != nil {
					seen.Failed++
					continue
				}
				seen.observe(slow, txs)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return func() WriteTxs { cancel(); wg.Wait(); return seen }
}

type txKey struct {
	db      string
	pid     int
	started time.Time
}

// observe records one sample's transactions: the longest, and those open
// for slowTx or longer (slow indexes w.Slow).
func (w *WriteTxs) observe(slow map[txKey]int, txs []WriteTx) {
	for _, tx := range txs {
		if tx.Open > w.Longest.Open {
			w.Longest = tx
		}
		if tx.Open < slowTx {
			continue
		}
		k := txKey{tx.Database, tx.PID, tx.Started}
		if i, ok := slow[k]; ok {
			w.Slow[i] = tx
			continue
		}
		slow[k] = len(w.Slow)
		w.Slow = append(w.Slow, tx)
	}
}

// openWriteTxs reads the open write transactions of database name.
func openWriteTxs(ctx context.Context, name string, db pgstore.Querier) ([]WriteTx, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rows, err := db.Query(ctx, writeTxQuery)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (WriteTx, error) {
		tx := WriteTx{Database: name}
		var secs float64
		err := row.Scan(&tx.PID, &tx.Started, &secs, &tx.State, &tx.Query)
		tx.Open = time.Duration(secs * float64(time.Second))
		return tx, err
	})
}
