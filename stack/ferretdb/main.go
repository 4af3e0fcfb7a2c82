// Command sagaflow-ferretdb runs FerretDB (the MongoDB wire protocol on a
// SQLite backend) as a process of its own for the local stack.
//
// It lives in a Go module of its own so that FerretDB's dependencies never
// meet sagaflow's. The launcher (go run ./stack up) builds it into
// .tools/bin/sagaflow-ferretdb and starts it; it stops on SIGTERM or SIGINT,
// giving connected clients -stop-grace to finish (FerretDB itself waits 3s
// for clients to hang up, and the pooled connections of a running worker
// never do, which made every stop take over 3s).
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
	"time"

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
	stopGrace := flag.Duration("stop-grace", time.Second, "how long connected clients have to finish after SIGTERM or SIGINT")
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
	if err := runUntilStopped(ctx, f.Run, *stopGrace); err != nil {
		return fmt.Errorf("run ferretdb: %w", err)
	}
	return nil
}

// runUntilStopped runs run until ctx ends, then gives it grace to return:
// after that the process exits with the clients still connected (SQLite
// keeps every committed write across the exit).
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
