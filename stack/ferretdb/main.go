// Command sagaflow-ferretdb runs FerretDB (the MongoDB wire protocol on a
// PostgreSQL backend) as a process of its own for the local stack.
//
// It lives in a Go module of its own so that FerretDB's dependencies never
// meet sagaflow's. The launcher (go run ./stack up) builds it into
// .tools/bin/sagaflow-ferretdb and starts it once the stack's PostgreSQL
// answers, with the URL of the database FerretDB owns in the variable
// SAGAFLOW_FERRETDB_POSTGRESQL_URL: the URL holds a password, and a
// process's environment, unlike its command line, is not shown to every
// user by ps. It stops on SIGTERM or SIGINT, giving connected clients
// -stop-grace to finish (FerretDB itself waits 3s for clients to hang up,
// and the pooled connections of a running worker never do, which made every
// stop take over 3s).
//
// The PostgreSQL backend, unlike the SQLite one, turns a filter of several
// fields into SQL; the SQLite backend reads and decodes a whole collection
// for any filter but {_id: <string>}, so every conditional update grew
// with the collection. FerretDB creates its schemas itself (one per MongoDB
// database) in the database of the URL, which its role must own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// envPostgreSQLURL names the variable holding the URL of the PostgreSQL
// database FerretDB stores its data in.
const envPostgreSQLURL = "SAGAFLOW_FERRETDB_POSTGRESQL_URL"

// envDebugAddr names the variable holding -debug-addr's default, so that
// `SAGAFLOW_FERRETDB_DEBUG_ADDR=127.0.0.1:6061 make up` (which starts this
// runner with the launcher's environment) serves the profiles.
const envDebugAddr = "SAGAFLOW_FERRETDB_DEBUG_ADDR"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sagaflow-ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	pgFlag := flag.String("postgresql-url", "", "PostgreSQL URL of the database FerretDB owns (default: $"+envPostgreSQLURL+
		", which keeps the password out of the command line)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn (logs every failed command) or error")
	stopGrace := flag.Duration("stop-grace", time.Second, "how long connected clients have to finish after SIGTERM or SIGINT")
	debugAddr := flag.String("debug-addr", os.Getenv(envDebugAddr), "loopback TCP address to serve Go's profiles on (/debug/pprof/), to see where FerretDB spends its time (default: $"+envDebugAddr+"; empty: none)")
	flag.Parse()
	if _, err := serveProfiles(*debugAddr); err != nil {
		return err
	}

	pgURL, err := postgreSQLURL(*pgFlag, os.Getenv(envPostgreSQLURL))
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	logger := slog.New(dropDuplicateKeys{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: pgURL,
	})
	if err != nil {
		return fmt.Errorf("start ferretdb: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	fmt.Fprintf(os.Stderr, "sagaflow-ferretdb: serving %s (postgresql backend, %s)\n", f.MongoDBURI(), redacted(pgURL))
	if err := runUntilStopped(ctx, f.Run, *stopGrace); err != nil {
		return fmt.Errorf("run ferretdb: %w", err)
	}
	return nil
}

// postgreSQLURL picks the backend's URL: the flag when given, else the
// variable's value. It must be a postgres:// or postgresql:// URL naming
// a database; errors never repeat the URL, which may hold a password.
func postgreSQLURL(flagValue, envValue string) (string, error) {
	raw := flagValue
	if raw == "" {
		raw = envValue
	}
	if raw == "" {
		return "", fmt.Errorf("no PostgreSQL URL: set %s (or -postgresql-url)", envPostgreSQLURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the PostgreSQL URL does not parse")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("the PostgreSQL URL has scheme %q; want postgres:// or postgresql://", u.Scheme)
	}
	if u.Host == "" || len(u.Path) < 2 {
		return "", errors.New("the PostgreSQL URL must name a host and a database (postgres://user:password@host:port/database)")
	}
	return raw, nil
}

// redacted is raw with its password hidden, for messages.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// duplicateKeyState is the SQLSTATE of a unique violation, as the
// PostgreSQL driver's errors end.
const duplicateKeyState = "(SQLSTATE 23505)"

// dropDuplicateKeys is a log handler that drops the driver's error records
// of a unique violation. FerretDB's PostgreSQL driver logs every failed
// query at error level, with its SQL and the start of its arguments; a
// duplicate key is an answer the services expect (an insert whose document
// is there already, which the client gets as error 11000), and logged it
// filled the log (its last lines are what CI prints on a failure) and
// buried the errors that matter.
type dropDuplicateKeys struct{ slog.Handler }

// Handle drops a duplicate key record and passes on every other.
func (h dropDuplicateKeys) Handle(ctx context.Context, r slog.Record) error {
	if isDuplicateKeyRecord(r) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the filter on the derived handler.
func (h dropDuplicateKeys) WithAttrs(attrs []slog.Attr) slog.Handler {
	return dropDuplicateKeys{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on the derived handler.
func (h dropDuplicateKeys) WithGroup(name string) slog.Handler {
	return dropDuplicateKeys{h.Handler.WithGroup(name)}
}

// isDuplicateKeyRecord reports whether r's err attribute is a unique violation.
func isDuplicateKeyRecord(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" && strings.HasSuffix(a.Value.String(), duplicateKeyState) {
			found = true
			return false
		}
		return true
	})
	return found
}

// runUntilStopped runs run until ctx ends, then gives it grace to return:
// after that the process exits with the clients still connected
// (PostgreSQL keeps every committed write across the exit).
func runUntilStopped(ctx context.Context, run func(context.Context) error, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		if err == nil {
			fmt.Fprintln(os.Stderr, "sagaflow-ferretdb: stopped")
		}
		return err
	case <-time.After(grace):
		fmt.Fprintf(os.Stderr, "sagaflow-ferretdb: stopped; clients still connected after %s were cut off\n", grace)
		return nil
	}
}
