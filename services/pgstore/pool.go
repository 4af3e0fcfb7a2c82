package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenPool opens a pool of connections to the database name at url (at
// most maxConns; pgx's default when 0) and checks that it answers. Its
// errors never quote the URL's password.
func OpenPool(ctx context.Context, name, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included: keep only the kind.
		return nil, fmt.Errorf("%s database URL is malformed", name)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
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
