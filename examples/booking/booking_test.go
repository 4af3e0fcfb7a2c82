package booking_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/sagaflow/sagaflow/examples/booking"
	"github.com/sagaflow/sagaflow/saga/barrier"
)

// server returns the variable env, or skips the test (fails it under CI).
func server(t *testing.T, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: the example's test needs the stack under CI", env)
		}
		t.Skipf("%s is not set (env $(go run ./stack env) go test ./... from the repository root's stack)", env)
	}
	return v
}

func name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// stores returns the example's stores in a new PostgreSQL schema and a new
// MongoDB database, both dropped when the test ends.
func stores(t *testing.T, ctx context.Context) *booking.Activities {
	t.Helper()
	pgURL, mongoURI := server(t, "DATABASE_URL"), server(t, "MONGO_URI")
	schema := name("booking")
	admin, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	db := client.Database(name("booking"))
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, pgURL); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = conn.Close(ctx)
		}
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return &booking.Activities{Inventory: booking.Inventory{Pool: pool}, Bookings: booking.Bookings{Coll: db.Collection("bookings")}}
}

// TestBookTripBooksOrUndoesBothResources runs the saga on a real Temporal
// server against real PostgreSQL and MongoDB: the first trip takes the
// last seat of the flight; the second takes a room, finds the flight sold
// out, and is undone: its room is free again and its booking CANCELLED.
// A late retry of the second trip's room step is then refused.
func TestBookTripBooksOrUndoesBothResources(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	acts := stores(t, ctx)
	inv := acts.Inventory
	if err := inv.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inv.Stock(ctx, "Adlon", 2, "LH123", 1); err != nil {
		t.Fatal(err)
	}

	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tc, err := client.Dial(client.Options{HostPort: server(t, "TEMPORAL_ADDRESS"), Namespace: os.Getenv("TEMPORAL_NAMESPACE"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	queue := name("booking")
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflow(booking.BookTrip)
	w.RegisterActivity(acts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	book := func(trip booking.Trip) (booking.Result, string) {
		t.Helper()
		id := "trip-" + trip.ID
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, booking.BookTrip, trip)
		if err != nil {
			t.Fatal(err)
		}
		var res booking.Result
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return res, id
	}
	free := func(kind, name string) int {
		t.Helper()
		n, err := inv.Free(ctx, kind, name)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	status := func(id string) string {
		t.Helper()
		b, err := acts.Bookings.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return b.Status
	}

	first := booking.Trip{ID: name("ada"), Traveler: "Ada", Hotel: "Adlon", Flight: "LH123"}
	if res, _ := book(first); res.Status != "BOOKED" {
		t.Fatalf("first trip: %+v, want BOOKED", res)
	}
	if got := status(first.ID); got != booking.Confirmed {
		t.Errorf("first booking %s, want %s", got, booking.Confirmed)
	}
	if r, s := free("room", "Adlon"), free("seat", "LH123"); r != 1 || s != 0 {
		t.Fatalf("after the first trip: %d rooms, %d seats free; want 1, 0", r, s)
	}

	second := booking.Trip{ID: name("bob"), Traveler: "Bob", Hotel: "Adlon", Flight: "LH123"}
	res, sagaID := book(second)
	if res.Status != booking.Cancelled || res.Reason != "LH123: no seat left" {
		t.Fatalf("second trip: %+v, want CANCELLED for lack of a seat", res)
	}
	if got := status(second.ID); got != booking.Cancelled {
		t.Errorf("second booking %s, want %s", got, booking.Cancelled)
	}
	if r, s := free("room", "Adlon"), free("seat", "LH123"); r != 1 || s != 0 {
		t.Fatalf("after the second trip: %d rooms, %d seats free; want 1, 0 (its room given back)", r, s)
	}

	// A retry of the second trip's room step, arriving after the saga
	// undid it (a worker that was cut off, say), takes nothing.
	if _, err := inv.Hold(ctx, sagaID, booking.StepReserveRoom, "room", "Adlon", second.ID); !errors.Is(err, barrier.ErrCompensated) {
		t.Fatalf("late room step: %v, want %v", err, barrier.ErrCompensated)
	}
	if r := free("room", "Adlon"); r != 1 {
		t.Fatalf("after the late step: %d rooms free, want 1", r)
	}
}

// TestTheExampleUsesThePublicPackagesOnly: of sagaflow, the example
// compiles the engine's public packages alone (the module boundary already
// keeps the application out; this keeps the engine's internal packages
// out too).
func TestTheExampleUsesThePublicPackagesOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	engine := 0
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case !strings.HasPrefix(pkg, "github.com/sagaflow/sagaflow/"), pkg == "github.com/sagaflow/sagaflow/examples/booking":
		case strings.HasPrefix(pkg, "github.com/sagaflow/sagaflow/saga") && !strings.Contains(pkg, "/internal/"):
			engine++
		default:
			t.Errorf("the example compiles %s", pkg)
		}
	}
	if engine == 0 {
		t.Error("the example compiles none of the engine's packages")
	}
}
