package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/internal/testenv"
)

// A collection created after `make up` (a new MongoDB database, as each
// test and benchmark cell makes) answers a find by _id from the stack's
// GIN index, not by reading the whole table: FerretDB's explain returns
// PostgreSQL's plan for the statement it runs.
func TestFerretDBFindsByIDThroughTheIndex(t *testing.T) {
	db := testenv.Mongo(t)
	ctx := testenv.Context(t)
	coll := db.Collection("orders")
	docs := make([]any, 2000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("o-%d", i)}, {Key: "status", Value: "PENDING"}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	var out struct {
		QueryPlanner bson.Raw `bson:"queryPlanner"`
	}
	explain := bson.D{{Key: "explain", Value: bson.D{
		{Key: "find", Value: coll.Name()},
		{Key: "filter", Value: bson.D{{Key: "_id", Value: "o-1234"}}},
	}}}
	if err := db.RunCommand(ctx, explain).Decode(&out); err != nil {
		t.Fatalf("explain: %v", err)
	}
	indexes := planIndexes(out.QueryPlanner.Lookup("Plan"))
	if len(indexes) != 1 || !strings.HasPrefix(indexes[0], ferretDBIDIndexPrefix) {
		t.Errorf("find by _id scans indexes %v, want one named %s<oid>; plan: %s", indexes, ferretDBIDIndexPrefix, out.QueryPlanner)
	}
}

// The stack's GIN indexes keep no pending list (fastupdate = off): one
// made with it, as the stack made them before, loses it at the next setup,
// and a collection created later gets an index without it.
func TestFerretDBIDIndexesHaveNoPendingList(t *testing.T) {
	db := testenv.Mongo(t)
	ctx := testenv.Context(t)
	s, err := loadSettings(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	l, port, ok, err := launcher{s: s}.pgLayoutFor(ctx)
	if err != nil || !ok {
		t.Fatalf("find the stack's PostgreSQL: ok %v, %v", ok, err)
	}
	conn, err := l.adminConnect(ctx, port, pgFerretDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := l.setupFerretDBIndexes(ctx, port); err != nil { // this code's trigger, not the running stack's
		t.Fatal(err)
	}
	if _, err := db.Collection("orders").InsertOne(ctx, bson.D{{Key: "_id", Value: "o-1"}}); err != nil {
		t.Fatal(err)
	}
	fastupdate := func() map[string]string {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '')
			FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relname LIKE $2`,
			db.Name(), ferretDBIDIndexPrefix+"%")
		if err != nil {
			t.Fatal(err)
		}
		opts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var v [2]string
			return v, r.Scan(&v[0], &v[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, o := range opts {
			out[o[0]] = o[1]
		}
		return out
	}
	idx := fastupdate()
	if len(idx) != 1 {
		t.Fatalf("GIN indexes of database %s: %v, want one", db.Name(), idx)
	}
	for name, opts := range idx {
		if opts != "fastupdate=off" {
			t.Errorf("index %s of a new collection has options %q, want fastupdate=off", name, opts)
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER INDEX %s SET (fastupdate = on)", pgx.Identifier{db.Name(), name}.Sanitize())); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.setupFerretDBIndexes(ctx, port); err != nil {
		t.Fatal(err)
	}
	for name, opts := range fastupdate() {
		if opts != "fastupdate=off" {
			t.Errorf("index %s made with a pending list has options %q after the setup, want fastupdate=off", name, opts)
		}
	}
}

// planIndexes lists the "Index Name" of every node of a PostgreSQL JSON
// plan.
func planIndexes(node bson.RawValue) []string {
	doc, ok := node.DocumentOK()
	if !ok {
		return nil
	}
	var names []string
	if name, ok := doc.Lookup("Index Name").StringValueOK(); ok {
		names = append(names, name)
	}
	children, _ := doc.Lookup("Plans").ArrayOK()
	vals, _ := children.Values()
	for _, child := range vals {
		names = append(names, planIndexes(child)...)
	}
	return names
}
