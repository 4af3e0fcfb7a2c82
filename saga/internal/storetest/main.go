package storetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The examples print what they did and compare it with their Output
// comments, so they must start from nothing: MainPostgres and MainMongo,
// called from a package's TestMain, give them that.

// skipAll reports whether the package's tests and examples cannot run at
// all: env unset outside CI, or server-free tests asked for. Under CI an
// unset variable does not skip: the tests then fail and say why.
func skipAll(env string) bool {
	if os.Getenv(EnvServerFree) != "" {
		fmt.Printf("%s is set: skipping the tests and examples that need a server\n", EnvServerFree)
		return true
	}
	if os.Getenv(env) == "" && os.Getenv("CI") == "" {
		fmt.Printf("%s is not set: skipping the tests and examples that need it\n", env)
		return true
	}
	return false
}

// MainPostgres runs the package's tests and examples with DATABASE_URL
// pointing at a new, empty schema (its search_path), dropped afterwards,
// and returns the exit code for os.Exit.
func MainPostgres(m *testing.M) int {
	if skipAll(EnvPostgresURL) {
		return 0
	}
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		return m.Run() // under CI: the tests fail and name the variable
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	scoped, drop, err := NewSchema(ctx, base)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if err := os.Setenv(EnvPostgresURL, scoped); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// MainMongo runs the package's tests and examples with the database
// exampleDB of MONGO_URI dropped before and after them, and returns the
// exit code for os.Exit.
func MainMongo(m *testing.M, exampleDB string) int {
	if skipAll(EnvMongoURI) {
		return 0
	}
	uri := os.Getenv(EnvMongoURI)
	if uri == "" {
		return m.Run() // under CI: the tests fail and name the variable
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to MongoDB:", err)
		return 1
	}
	defer client.Disconnect(context.Background())
	drop := func() error {
		if err := client.Database(exampleDB).Drop(context.Background()); err != nil {
			return fmt.Errorf("drop %s: %w", exampleDB, err)
		}
		return nil
	}
	if err := drop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := drop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}
