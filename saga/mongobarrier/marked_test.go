package mongobarrier_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// stored reads the document id and returns it without its _id, for
// comparing documents written under two ids.
func stored(t *testing.T, ctx context.Context, coll *mongo.Collection, id string) bson.D {
	t.Helper()
	var d bson.D
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	out := d[:0]
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

func sameDoc(t *testing.T, what string, got, want bson.D) {
	t.Helper()
	a, err1 := bson.Marshal(got)
	b, err2 := bson.Marshal(want)
	if err1 != nil || err2 != nil || string(a) != string(b) {
		t.Fatalf("%s:\n bulk    %v\n barrier %v", what, got, want)
	}
}

// TestMarkedDocIsWhatTheStepsWrite writes a document through the
// barrier's steps and the same document marked by MarkedDoc, inserted in
// bulk: both read back alike, field for field and in the same order.
func TestMarkedDocIsWhatTheStepsWrite(t *testing.T) {
	coll, ctx := scratch(t)
	// Inserted, then updated by a second step: a confirmed order.
	mustInsert(t, ctx, coll, "steps-1")
	out, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "steps-1", is("open"),
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "done"}}}})
	want(t, "update", out, err, barrier.Applied)
	// Inserted, then compensated: a cancelled order.
	mustInsert(t, ctx, coll, "steps-2")
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "steps-2", is("open"),
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "cancelled"}}}}, tombstone("steps-2"))
	want(t, "compensate", out, err, barrier.Applied)
	// Never inserted, compensated: a tombstone.
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "steps-3", nil, nil, tombstone("steps-3"))
	want(t, "null compensation", out, err, barrier.NullCompensation)

	done, cancelled := open("bulk-1"), open("bulk-2")
	done.Status, cancelled.Status = "done", "cancelled"
	var docs []any
	for _, c := range []struct {
		doc   doc
		marks []mongobarrier.Mark
	}{
		{done, []mongobarrier.Mark{{Step: createKey.Step}, {Step: addKey.Step}}},
		{cancelled, []mongobarrier.Mark{{Step: createKey.Step, Compensated: true}}},
	} {
		d, err := mongobarrier.MarkedDoc(createKey.SagaID, c.doc, c.marks...)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	// The tombstone is marked with the time CompensateDoc wrote its own.
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "steps-3"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	at, ok := raw.Lookup(mongobarrier.MarkerField, "at").TimeOK()
	if !ok {
		t.Fatalf("tombstone without its time: %v", raw)
	}
	d, err := mongobarrier.MarkedTombstone(createKey.SagaID, createKey.Step, tombstone("bulk-3"), at)
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, d)
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for i, what := range []string{"inserted and updated", "inserted and compensated", "tombstone"} {
		n := string(rune('1' + i))
		sameDoc(t, what, stored(t, ctx, coll, "bulk-"+n), stored(t, ctx, coll, "steps-"+n))
	}
}

// TestMarkedDocIsTheSagasOwn: the barrier's steps treat a document
// written from MarkedDoc as one they wrote themselves.
func TestMarkedDocIsTheSagasOwn(t *testing.T) {
	coll, ctx := scratch(t)
	done, err := mongobarrier.MarkedDoc(createKey.SagaID, open("d1"), mongobarrier.Mark{Step: createKey.Step}, mongobarrier.Mark{Step: addKey.Step})
	if err != nil {
		t.Fatal(err)
	}
	undone, err := mongobarrier.MarkedTombstone(createKey.SagaID, createKey.Step, tombstone("d2"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertMany(ctx, []any{done, undone}); err != nil {
		t.Fatal(err)
	}
	out, err := mongobarrier.InsertDoc(ctx, coll, createKey, open("d1"))
	want(t, "insert of a marked document", out, err, barrier.Duplicate)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	want(t, "update of a marked step", out, err, barrier.Duplicate)
	out, err = mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: "s2", Step: createKey.Step}, open("d1"))
	refused(t, "insert by another saga", out, err, mongobarrier.ErrOwnedByOtherSaga)
	out, err = mongobarrier.InsertDoc(ctx, coll, createKey, open("d2"))
	refused(t, "late insert over a marked tombstone", out, err, barrier.ErrCompensated)
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "d2", nil, nil, tombstone("d2"))
	want(t, "compensation of a compensated mark", out, err, barrier.AlreadyCompensated)
	if d, marker := get(t, ctx, coll, "d1", addKey.Step); d.N != 1 || marker != "forward" {
		t.Fatalf("d1 after the refused steps: %+v, marker %q", d, marker)
	}
}

func TestMarkedDocRefusesWhatNoStepWrites(t *testing.T) {
	for what, call := range map[string]func() (bson.D, error){
		"no step": func() (bson.D, error) { return mongobarrier.MarkedDoc("s1", open("d1")) },
		"a step twice": func() (bson.D, error) {
			return mongobarrier.MarkedDoc("s1", open("d1"), mongobarrier.Mark{Step: "A"}, mongobarrier.Mark{Step: "A", Compensated: true})
		},
		"a step with a dot": func() (bson.D, error) {
			return mongobarrier.MarkedDoc("s1", open("d1"), mongobarrier.Mark{Step: "a.b"})
		},
		"no saga id": func() (bson.D, error) { return mongobarrier.MarkedDoc("", open("d1"), mongobarrier.Mark{Step: "A"}) },
		"no _id": func() (bson.D, error) {
			return mongobarrier.MarkedDoc("s1", bson.D{{Key: "n", Value: 1}}, mongobarrier.Mark{Step: "A"})
		},
		"the barrier's field": func() (bson.D, error) {
			return mongobarrier.MarkedDoc("s1", bson.D{{Key: "_id", Value: "d1"}, {Key: mongobarrier.MarkerField, Value: 1}}, mongobarrier.Mark{Step: "A"})
		},
		"a tombstone without a step": func() (bson.D, error) { return mongobarrier.MarkedTombstone("s1", "", tombstone("d1"), time.Now()) },
	} {
		if d, err := call(); err == nil {
			t.Errorf("%s: %v, no error", what, d)
		}
	}
}
