// Command sagaflow-ferretdb runs FerretDB (the MongoDB wire protocol on a
// SQLite backend) as a process of its own for the local stack.
//
// It lives in a Go module of its own so that FerretDB's dependencies never
// meet sagaflow's. The launcher (go run ./stack up) builds it into
// .tools/bin/sagaflow-ferretdb and starts it; it stops on SIGTERM or SIGINT.
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
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sagaflow-ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (required)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn (logs every failed command) or error")
	flag.Parse()

	if *dataDir == "" {
		return errors.New("-data-dir is required")
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// The SQLite handler wants a file: URI naming an existing directory, ending with "/".
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("start ferretdb: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	fmt.Fprintf(os.Stderr, "sagaflow-ferretdb: serving %s (sqlite %s)\n", f.MongoDBURI(), dir)
	if err := f.Run(ctx); err != nil {
		return fmt.Errorf("run ferretdb: %w", err)
	}
	fmt.Fprintln(os.Stderr, "sagaflow-ferretdb: stopped")
	return nil
}
