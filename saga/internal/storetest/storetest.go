// Package storetest gives the saga engine's tests and examples isolated
// stores: a fresh PostgreSQL schema, or a fresh MongoDB database, each
// dropped when the test ends.
//
// The servers are named by the variables the examples read: DATABASE_URL
// (a PostgreSQL URL) and MONGO_URI. sagaflow's `make test` sets them from
// the local stack (go run ./stack env). When one is missing, a test that
// needs it is skipped, or fails under CI=true so that a CI run can never
// pass by skipping; SAGAFLOW_SERVER_FREE_TESTS (set by `make mutate`)
// skips it whatever the environment.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The variables that name the servers.
const (
	EnvPostgresURL = "DATABASE_URL"
	EnvMongoURI    = "MONGO_URI"
	// EnvServerFree, set to anything but "", skips every test that needs a
	// server, under CI too.
	EnvServerFree = "SAGAFLOW_SERVER_FREE_TESTS"
)

// Server returns the value of the variable env, or skips the test (fails
// it under CI) when it is not set.
func Server(tb testing.TB, env string) string {
	tb.Helper()
	if os.Getenv(EnvServerFree) != "" {
		tb.Skipf("%s is set: this test needs a server", EnvServerFree)
	}
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set: a server is needed under CI", env)
		}
		tb.Skipf("%s is not set", env)
	}
	return v
}

// Context returns a context cancelled when the test ends or after a minute.
func Context(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// Name returns prefix followed by a random suffix, unique across runs,
// usable as a schema or database name.
func Name(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

// Postgres returns a pool on DATABASE_URL whose search_path is a new, empty
// schema, dropped with its tables when the test ends.
func Postgres(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	base := Server(tb, EnvPostgresURL)
	ctx := Context(tb)
	scoped, drop, err := NewSchema(ctx, base)
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, scoped)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return pool
}

// NewSchema creates a new, empty schema in the database of the PostgreSQL
// URL base and returns base with its search_path set to it, and a function
// that drops the schema with its tables.
func NewSchema(ctx context.Context, base string) (scoped string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvPostgresURL, err)
	}
	schema := Name("test")
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// Mongo returns a new, empty database on MONGO_URI, dropped when the test
// ends.
func Mongo(tb testing.TB) *mongo.Database {
	tb.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(Server(tb, EnvMongoURI)).SetTimeout(30 * time.Second))
	if err != nil {
		tb.Fatalf("connect to MongoDB: %v", err)
	}
	db := client.Database(strings.ToLower(Name("test")))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("drop %s: %v", db.Name(), err)
		}
		_ = client.Disconnect(ctx)
	})
	return db
}

// PruneAll calls prune with limit until a call removes less than limit,
// and returns what each call removed.
func PruneAll(tb testing.TB, prune func(limit int) (int, error), limit int) []int {
	tb.Helper()
	var calls []int
	for range 100 {
		n, err := prune(limit)
		if err != nil {
			tb.Fatal(err)
		}
		calls = append(calls, n)
		if n < limit {
			return calls
		}
	}
	tb.Fatalf("prune never finished: %v", calls)
	return nil
}
