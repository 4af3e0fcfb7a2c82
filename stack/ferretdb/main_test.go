package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestPostgreSQLURLPrefersTheFlag(t *testing.T) {
	const env = "postgres://ferretdb:secret@127.0.0.1:5432/ferretdb?sslmode=disable"
	got, err := postgreSQLURL("", env)
	if err != nil || got != env {
		t.Fatalf("from the variable: got %q, %v", got, err)
	}
	const flagURL = "postgresql://other:pw@127.0.0.1:5433/other"
	if got, err := postgreSQLURL(flagURL, env); err != nil || got != flagURL {
		t.Fatalf("flag given: got %q, %v", got, err)
	}
}

func TestPostgreSQLURLRefusesWithoutLeakingThePassword(t *testing.T) {
	for _, raw := range []string{
		"",
		"mysql://u:secret@h/db",
		"postgres://u:secret@127.0.0.1:5432",
		"postgres://u:secret@127.0.0.1:5432/",
		"postgres:///db?password=secret",
		"postgres://u:secret@h:bad port/db",
	} {
		_, err := postgreSQLURL(raw, "")
		if err == nil {
			t.Errorf("%q: accepted", raw)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", raw, err)
		}
	}
	if _, err := postgreSQLURL("", ""); err == nil || !strings.Contains(err.Error(), envPostgreSQLURL) {
		t.Errorf("no URL: want an error naming %s, got %v", envPostgreSQLURL, err)
	}
}

func TestRedactedHidesThePassword(t *testing.T) {
	got := redacted("postgres://ferretdb:secret@127.0.0.1:5432/ferretdb?sslmode=disable")
	if strings.Contains(got, "secret") || !strings.Contains(got, "ferretdb:xxxxx@127.0.0.1:5432/ferretdb") {
		t.Errorf("got %q", got)
	}
}

func TestRunUntilStoppedCutsOffAfterGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	began := time.Now()
	err := runUntilStopped(ctx, func(context.Context) error { select {} }, 50*time.Millisecond)
	if err != nil || time.Since(began) > 2*time.Second {
		t.Errorf("got %v after %s", err, time.Since(began))
	}
	want := errors.New("listener failed")
	if err := runUntilStopped(context.Background(), func(context.Context) error { return want }, time.Second); !errors.Is(err, want) {
		t.Errorf("a failed run: got %v", err)
	}
}

// The driver's record of a duplicate key is dropped; its other errors, and
// FerretDB's own records, are kept, also through a derived logger.
func TestDropDuplicateKeys(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(dropDuplicateKeys{slog.NewTextHandler(&buf, nil)}).With("name", "postgresql")
	dup := errors.New(`ERROR: duplicate key value violates unique constraint "orders__id__idx" (SQLSTATE 23505)`)
	l.Error("Query", "err", dup, "sql", "INSERT INTO x VALUES ($1)")
	if buf.Len() != 0 {
		t.Errorf("duplicate key logged: %s", buf.String())
	}
	l.Error("Connect", "err", errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
	l.Error("Query", "err", errors.New(`ERROR: relation "x" does not exist (SQLSTATE 42P01)`))
	l.WithGroup("g").Info("serving")
	for _, want := range []string{"connection refused", "42P01", "serving"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%q not logged: %s", want, buf.String())
		}
	}
}
