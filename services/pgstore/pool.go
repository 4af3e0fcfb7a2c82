package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// SessionBound is the longest a session of sagaflow's may hold a
// transaction open while it waits for its client, and the longest the
// server keeps sending to a client that does not acknowledge: a worker or
// projector cut off mid-transaction by a partition that drops packets (its
// connection hangs rather than closes) releases its row locks, and a
// projector's lease row, within this bound. Every transaction of the
// services, the projector and the starter is a few statements long; none
// waits for its client longer than a round trip.
const SessionBound = 10 * time.Second

// sessionParams are the server settings of every session OpenPool opens
// (set at connection start, so they hold on any server, unless the URL
// sets them itself): idle_in_transaction_session_timeout ends a session
// idle inside a transaction, tcp_user_timeout one whose sent data stays
// unacknowledged (Linux), both after SessionBound.
func sessionParams() map[string]string {
	ms := strconv.FormatInt(SessionBound.Milliseconds(), 10)
	return map[string]string{"idle_in_transaction_session_timeout": ms, "tcp_user_timeout": ms}
}

// OpenPool opens a pool of connections to the database name at url (at
// most maxConns; pgx's default when 0) with the session bounds of
// SessionBound, and checks that it answers. Its errors never quote the
// URL's password.
func OpenPool(ctx context.Context, name, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included: keep only the kind.
		return nil, fmt.Errorf("%s database URL is malformed", name)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	for k, v := range sessionParams() {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", name, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		// pgx names host, user and database in its message, never the password.
		return nil, fmt.Errorf("%s database does not answer: %w", name, err)
	}
	return pool, nil
}
