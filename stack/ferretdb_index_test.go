package main

import (
	"fmt"
	"strings"
	"testing"

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
