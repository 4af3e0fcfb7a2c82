package mongostore_test

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// This test is the saga engine's (saga/mongobarrier) but lives here: the
// client that records each read's server selection (testenv.MongoReads)
// is the application's test tooling, which the engine's module does not
// import. The services' own tests check their reads the same way.

// scratchDoc is a document the steps below create, change and undo.
type scratchDoc struct {
	ID     string `bson:"_id"`
	N      int    `bson:"n"`
	Status string `bson:"status"`
}

var (
	createKey = barrier.Key{SagaID: "s1", Step: "Create"}
	addKey    = barrier.Key{SagaID: "s1", Step: "Add"}
	cancel    = bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "cancelled"}}}}
)

func open(id string) scratchDoc      { return scratchDoc{ID: id, N: 1, Status: "open"} }
func tombstone(id string) scratchDoc { return scratchDoc{ID: id, Status: "cancelled"} }
func inc(n int) bson.D               { return bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: n}}}} }
func is(status string) bson.D        { return bson.D{{Key: "status", Value: status}} }

func want(t *testing.T, what string, got barrier.Outcome, err error, outcome barrier.Outcome) {
	t.Helper()
	if err != nil || got != outcome {
		t.Fatalf("%s: %v, %v; want %v", what, got, err, outcome)
	}
}

func refused(t *testing.T, what string, got barrier.Outcome, err, target error) {
	t.Helper()
	if !errors.Is(err, target) || got != 0 {
		t.Fatalf("%s: %v, %v; want %v", what, got, err, target)
	}
}

// Every read the barrier makes decides an outcome (duplicate, refused, null
// compensation), so it must ask for the primary even when MONGO_URI says
// readPreference=secondaryPreferred: a lagging secondary would answer "no
// document" for one the primary just refused to insert over. The client
// below has that URI and records, for each operation, whether the driver
// would have let a secondary serve it (FerretDB is a single server, to
// which the driver sends no read preference at all, so the selection is
// what shows it). Every read path of InsertDoc, UpdateDoc and CompensateDoc
// runs once.
func TestEveryBarrierReadAsksForThePrimary(t *testing.T) {
	db, reads := testenv.MongoSecondaryPreferred(t)
	coll, ctx := db.Collection("docs"), testenv.Context(t)
	other := barrier.Key{SagaID: "s2", Step: createKey.Step}
	out, err := mongobarrier.InsertDoc(ctx, coll, createKey, open("d1"))
	want(t, "insert", out, err, barrier.Applied)

	out, err = mongobarrier.InsertDoc(ctx, coll, createKey, open("d1"))
	want(t, "insert again", out, err, barrier.Duplicate)
	out, err = mongobarrier.InsertDoc(ctx, coll, other, open("d1"))
	refused(t, "insert by another saga", out, err, mongobarrier.ErrOwnedByOtherSaga)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	want(t, "update", out, err, barrier.Applied)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	want(t, "update again", out, err, barrier.Duplicate)
	out, err = mongobarrier.UpdateDoc(ctx, coll, barrier.Key{SagaID: "s1", Step: "Close"}, "d1", is("closed"), inc(1))
	refused(t, "update with a failing precondition", out, err, mongobarrier.ErrPreconditionFailed)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "nope", nil, inc(1))
	refused(t, "update of a missing document", out, err, mongobarrier.ErrNotFound)
	out, err = mongobarrier.CompensateDoc(ctx, coll, other, "d1", nil, cancel, tombstone("d1"))
	want(t, "compensate by another saga", out, err, barrier.NullCompensation)
	out, err = mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", nil, inc(-1), nil)
	want(t, "compensate", out, err, barrier.Applied)
	out, err = mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", nil, inc(-1), nil)
	want(t, "compensate again", out, err, barrier.AlreadyCompensated)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	refused(t, "late update", out, err, barrier.ErrCompensated)
	out, err = mongobarrier.CompensateDoc(ctx, coll, barrier.Key{SagaID: "s1", Step: "Never"}, "d1", nil, inc(-1), nil)
	want(t, "compensate a step that never ran", out, err, barrier.NullCompensation)
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "d2", is("open"), cancel, tombstone("d2"))
	want(t, "compensate a missing document", out, err, barrier.NullCompensation)
	out, err = mongobarrier.InsertDoc(ctx, coll, createKey, open("d2"))
	refused(t, "late insert", out, err, barrier.ErrCompensated)

	reads.Check(t, 11)
}
