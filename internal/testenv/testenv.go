// Package testenv gives tests isolated stores on the running stack: a fresh
// PostgreSQL schema per test in the inventory or payments database, and a
// fresh MongoDB database per test, each dropped when the test ends.
//
// The addresses come from config.Load, as in the binaries. With no stack
// (no `make up`, no environment), tests skip; under CI=true they fail, so a
// CI run can never pass by skipping. SAGAFLOW_SERVER_FREE_TESTS (set by
// `make mutate`) skips them whatever the stack.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// EnvServerFree names the variable that, set to anything but "", skips
// every test that needs the stack, under CI too: `make mutate` sets it, so
// that each mutant runs the tests that need no server only.
const EnvServerFree = "SAGAFLOW_SERVER_FREE_TESTS"

// Config returns the stack's configuration with keys required, or skips
// the test (fails it under CI) when they are missing. With EnvServerFree
// set it skips the test at once.
func Config(tb testing.TB, keys ...string) config.Config {
	tb.Helper()
	if os.Getenv(EnvServerFree) != "" {
		tb.Skipf("%s is set: this test needs the stack", EnvServerFree)
	}
	c, err := config.Load(os.Getenv)
	if err == nil {
		err = c.Require(keys...)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("stack needed under CI: %v", err)
		}
		tb.Skipf("stack not available: %v", err)
	}
	return c
}

// Context returns a context cancelled when the test ends or after a minute.
func Context(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// ID returns prefix followed by a random suffix, unique across test runs.
func ID(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// Database names the PostgreSQL databases of the stack.
type Database string

// The PostgreSQL databases.
const (
	Inventory Database = config.EnvInventoryURL
	Payments  Database = config.EnvPaymentsURL
	Reporting Database = config.EnvReportingURL
)

// Postgres returns a pool on db whose search_path is a new, empty schema,
// dropped with its tables when the test ends.
func Postgres(tb testing.TB, db Database) *pgxpool.Pool {
	tb.Helper()
	c := Config(tb, string(db))
	url := map[Database]string{Inventory: c.InventoryURL, Payments: c.PaymentsURL, Reporting: c.ReportingURL}[db]
	ctx := Context(tb)
	schema := strings.ReplaceAll(ID("test"), "-", "_")
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect %s: %v", db, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatalf("parse %s: %v", db, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 60
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pool %s: %v", db, err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool
}

// Mongo returns a new, empty database, dropped when the test ends.
func Mongo(tb testing.TB) *mongo.Database {
	tb.Helper()
	c := Config(tb, config.EnvMongoURI)
	client, err := mongostore.Connect(c.MongoURI)
	if err != nil {
		tb.Fatal(err)
	}
	db := client.Database(strings.ReplaceAll(ID("test"), "-", "_"))
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
