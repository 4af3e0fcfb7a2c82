package mongobarrier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/internal/storetest"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// doc is a scratch document: forward steps add to n, compensations take
// it away, so every double effect shows in its value.
type doc struct {
	ID        string `bson:"_id"`
	N         int    `bson:"n"`
	Status    string `bson:"status"`
	Tombstone bool   `bson:"tombstone,omitempty"`
}

var (
	createKey = barrier.Key{SagaID: "s1", Step: "Create"}
	addKey    = barrier.Key{SagaID: "s1", Step: "Add"}
)

func scratch(t *testing.T) (*mongo.Collection, context.Context) {
	t.Helper()
	return storetest.Mongo(t).Collection("docs"), storetest.Context(t)
}

func inc(n int) bson.D { return bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: n}}}} }

// cancel is the compensation of the insert: the document's effect goes.
var cancel = bson.D{
	{Key: "$set", Value: bson.D{{Key: "status", Value: "cancelled"}}},
	{Key: "$inc", Value: bson.D{{Key: "n", Value: -1}}},
}

func tombstone(id string) doc { return doc{ID: id, Status: "cancelled", Tombstone: true} }

func open(id string) doc { return doc{ID: id, N: 1, Status: "open"} }

func is(status string) bson.D { return bson.D{{Key: "status", Value: status}} }

// get reads the document and the marker of step.
func get(t *testing.T, ctx context.Context, coll *mongo.Collection, id, step string) (doc, string) {
	t.Helper()
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	var d doc
	if err := bson.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	marker, _ := raw.Lookup(mongobarrier.MarkerField, "steps", step).StringValueOK()
	return d, marker
}

func count(t *testing.T, ctx context.Context, coll *mongo.Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

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

func mustInsert(t *testing.T, ctx context.Context, coll *mongo.Collection, id string) {
	t.Helper()
	out, err := mongobarrier.InsertDoc(ctx, coll, createKey, open(id))
	want(t, "insert", out, err, barrier.Applied)
}

func TestInsertDocTwiceHasOneEffect(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	again := open("d1")
	again.N = 5
	out, err := mongobarrier.InsertDoc(ctx, coll, createKey, again)
	want(t, "insert again", out, err, barrier.Duplicate)
	d, marker := get(t, ctx, coll, "d1", createKey.Step)
	if d.N != 1 || marker != "forward" || count(t, ctx, coll) != 1 {
		t.Fatalf("after two inserts: %+v, marker %q, %d documents", d, marker, count(t, ctx, coll))
	}
	raw, _ := coll.FindOne(ctx, bson.D{}).Raw()
	if owner := raw.Lookup(mongobarrier.MarkerField, "id").StringValue(); owner != "s1" {
		t.Fatalf("owner %q", owner)
	}
}

func TestUpdateDocTwiceHasOneEffect(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	for i, outcome := range []barrier.Outcome{barrier.Applied, barrier.Duplicate} {
		out, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", is("open"), inc(1))
		want(t, fmt.Sprintf("update %d", i), out, err, outcome)
	}
	if d, marker := get(t, ctx, coll, "d1", addKey.Step); d.N != 2 || marker != "forward" {
		t.Fatalf("after two updates: %+v, marker %q", d, marker)
	}
}

func TestCompensateTwiceHasOneEffectAndRefusesLateForward(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	if _, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1)); err != nil {
		t.Fatal(err)
	}
	// Compensate the update, then the insert, each twice.
	for i, outcome := range []barrier.Outcome{barrier.Applied, barrier.AlreadyCompensated} {
		out, err := mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", nil, inc(-1), nil)
		want(t, fmt.Sprintf("compensate update %d", i), out, err, outcome)
	}
	for i, outcome := range []barrier.Outcome{barrier.Applied, barrier.AlreadyCompensated} {
		out, err := mongobarrier.CompensateDoc(ctx, coll, createKey, "d1", is("open"), cancel, tombstone("d1"))
		want(t, fmt.Sprintf("compensate insert %d", i), out, err, outcome)
	}
	out, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	refused(t, "late update", out, err, barrier.ErrCompensated)
	out, err = mongobarrier.InsertDoc(ctx, coll, createKey, open("d1"))
	refused(t, "late insert", out, err, barrier.ErrCompensated)
	d, marker := get(t, ctx, coll, "d1", createKey.Step)
	if d.N != 0 || d.Status != "cancelled" || d.Tombstone || marker != "compensate" {
		t.Fatalf("after compensation: %+v, marker %q", d, marker)
	}
}

func TestNullCompensationOfAMissingDocumentLeavesATombstone(t *testing.T) {
	coll, ctx := scratch(t)
	out, err := mongobarrier.CompensateDoc(ctx, coll, createKey, "d1", is("open"), cancel, tombstone("d1"))
	want(t, "compensate", out, err, barrier.NullCompensation)
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "d1", is("open"), cancel, tombstone("d1"))
	want(t, "compensate again", out, err, barrier.AlreadyCompensated)
	out, err = mongobarrier.InsertDoc(ctx, coll, createKey, open("d1"))
	refused(t, "late insert", out, err, barrier.ErrCompensated)
	d, marker := get(t, ctx, coll, "d1", createKey.Step)
	if d.N != 0 || !d.Tombstone || marker != "compensate" || count(t, ctx, coll) != 1 {
		t.Fatalf("tombstone: %+v, marker %q", d, marker)
	}

	// A tombstone without _id takes the id; a nil one writes nothing.
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "d2", nil, cancel, bson.D{{Key: "status", Value: "cancelled"}})
	want(t, "compensate d2", out, err, barrier.NullCompensation)
	if _, marker := get(t, ctx, coll, "d2", createKey.Step); marker != "compensate" {
		t.Fatalf("d2 marker %q", marker)
	}
	out, err = mongobarrier.CompensateDoc(ctx, coll, createKey, "d3", nil, cancel, nil)
	want(t, "compensate d3 without tombstone", out, err, barrier.NullCompensation)
	if n := count(t, ctx, coll); n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}
}

func TestNullCompensationOfAStepThatNeverRanOnAnExistingDocument(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	out, err := mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", nil, inc(-1), tombstone("d1"))
	want(t, "compensate", out, err, barrier.NullCompensation)
	out, err = mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", nil, inc(-1), tombstone("d1"))
	want(t, "compensate again", out, err, barrier.AlreadyCompensated)
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, inc(1))
	refused(t, "late update", out, err, barrier.ErrCompensated)
	d, marker := get(t, ctx, coll, "d1", addKey.Step)
	if d.N != 1 || d.Status != "open" || marker != "compensate" {
		t.Fatalf("after null compensation: %+v, marker %q", d, marker)
	}
	if _, marker := get(t, ctx, coll, "d1", createKey.Step); marker != "forward" {
		t.Fatalf("the insert's marker changed to %q", marker)
	}
}

func TestAnotherSagasDocumentIsLeftAlone(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	other := barrier.Key{SagaID: "s2", Step: createKey.Step}
	out, err := mongobarrier.InsertDoc(ctx, coll, other, open("d1"))
	refused(t, "insert", out, err, mongobarrier.ErrOwnedByOtherSaga)
	out, err = mongobarrier.UpdateDoc(ctx, coll, barrier.Key{SagaID: "s2", Step: addKey.Step}, "d1", nil, inc(1))
	refused(t, "update", out, err, mongobarrier.ErrOwnedByOtherSaga)
	out, err = mongobarrier.CompensateDoc(ctx, coll, other, "d1", nil, cancel, tombstone("d1"))
	want(t, "compensate", out, err, barrier.NullCompensation)
	d, marker := get(t, ctx, coll, "d1", createKey.Step)
	raw, _ := coll.FindOne(ctx, bson.D{}).Raw()
	if d.N != 1 || d.Status != "open" || marker != "forward" || raw.Lookup(mongobarrier.MarkerField, "id").StringValue() != "s1" {
		t.Fatalf("another saga changed the document: %s", raw)
	}
}

func TestPreconditionFailuresChangeNothing(t *testing.T) {
	coll, ctx := scratch(t)
	mustInsert(t, ctx, coll, "d1")
	var pe *mongobarrier.PreconditionError
	out, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", is("closed"), inc(1))
	if !errors.As(err, &pe) || !errors.Is(err, mongobarrier.ErrPreconditionFailed) || out != 0 ||
		pe.Doc.Lookup("status").StringValue() != "open" || pe.ID != "d1" || pe.Key != addKey {
		t.Fatalf("update with failing precondition: %v, %v", out, err)
	}
	if d, marker := get(t, ctx, coll, "d1", addKey.Step); d.N != 1 || marker != "" {
		t.Fatalf("refused update changed %+v, marker %q", d, marker)
	}
	// Refused, the step has not run: it may run once its precondition holds.
	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", is("open"), inc(1))
	want(t, "update", out, err, barrier.Applied)

	out, err = mongobarrier.CompensateDoc(ctx, coll, addKey, "d1", is("closed"), inc(-1), nil)
	if !errors.As(err, &pe) || out != 0 || pe.Doc.Lookup("n").AsInt64() != 2 {
		t.Fatalf("compensate with failing precondition: %v, %v", out, err)
	}
	if d, marker := get(t, ctx, coll, "d1", addKey.Step); d.N != 2 || marker != "forward" {
		t.Fatalf("refused compensation changed %+v, marker %q", d, marker)
	}

	out, err = mongobarrier.UpdateDoc(ctx, coll, addKey, "nope", nil, inc(1))
	refused(t, "update of a missing document", out, err, mongobarrier.ErrNotFound)
	// Another step of the saga created d1: inserting it is not a duplicate.
	out, err = mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: "s1", Step: "Other"}, open("d1"))
	if !errors.As(err, &pe) || out != 0 {
		t.Fatalf("insert by another step: %v, %v", out, err)
	}
}

func TestMisuseIsRefusedBeforeAnyWrite(t *testing.T) {
	coll, ctx := scratch(t)
	for name, err := range map[string]error{
		"step with a dot": func() error {
			_, err := mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: "s1", Step: "a.b"}, open("d1"))
			return err
		}(),
		"empty saga id": func() error {
			_, err := mongobarrier.UpdateDoc(ctx, coll, barrier.Key{Step: "Add"}, "d1", nil, inc(1))
			return err
		}(),
		"document with the marker field": func() error {
			_, err := mongobarrier.InsertDoc(ctx, coll, createKey, bson.D{{Key: "_id", Value: "d1"}, {Key: "saga", Value: 1}})
			return err
		}(),
		"document without _id": func() error {
			_, err := mongobarrier.InsertDoc(ctx, coll, createKey, bson.D{{Key: "n", Value: 1}})
			return err
		}(),
		"precondition on the marker": func() error {
			_, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", bson.D{{Key: "saga.id", Value: "x"}}, inc(1))
			return err
		}(),
		"update of the marker": func() error {
			_, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, bson.D{{Key: "$set", Value: bson.D{{Key: "saga.steps.Add", Value: "x"}}}})
			return err
		}(),
		"replacement instead of update": func() error {
			_, err := mongobarrier.UpdateDoc(ctx, coll, addKey, "d1", nil, bson.D{{Key: "n", Value: 3}})
			return err
		}(),
		"tombstone with another _id": func() error {
			_, err := mongobarrier.CompensateDoc(ctx, coll, createKey, "d1", nil, cancel, tombstone("d2"))
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := count(t, ctx, coll); n != 0 {
		t.Fatalf("misuse wrote %d documents", n)
	}
}

// An insert racing its compensation (a step that timed out, still running
// while the saga compensates it): whichever wins, the net effect is zero,
// the document ends compensated and a later retry of the insert is refused.
func TestInsertRacingItsCompensationNetsZero(t *testing.T) {
	coll, ctx := scratch(t)
	seen := map[string]int{}
	for i := range 60 {
		id := fmt.Sprintf("d%d", i)
		var wg sync.WaitGroup
		var fwd, comp barrier.Outcome
		var fwdErr, compErr error
		wg.Add(2)
		start := make(chan struct{})
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(time.Duration(i%6) * 400 * time.Microsecond) // vary who comes first
			fwd, fwdErr = mongobarrier.InsertDoc(ctx, coll, createKey, open(id))
		}()
		go func() {
			defer wg.Done()
			<-start
			comp, compErr = mongobarrier.CompensateDoc(ctx, coll, createKey, id, is("open"), cancel, tombstone(id))
		}()
		close(start)
		wg.Wait()
		seen[fmt.Sprintf("insert %v, compensate %v", fwd, comp)]++
		if compErr != nil || (fwdErr != nil && !errors.Is(fwdErr, barrier.ErrCompensated)) ||
			(fwd == barrier.Applied) != (comp == barrier.Applied) {
			t.Fatalf("race %d: insert %v, %v; compensate %v, %v", i, fwd, fwdErr, comp, compErr)
		}
		d, marker := get(t, ctx, coll, id, createKey.Step)
		if d.N != 0 || d.Status != "cancelled" || marker != "compensate" {
			t.Fatalf("race %d (insert %v, compensate %v): %+v, marker %q", i, fwd, comp, d, marker)
		}
		out, err := mongobarrier.InsertDoc(ctx, coll, createKey, open(id))
		refused(t, fmt.Sprintf("race %d: late insert", i), out, err, barrier.ErrCompensated)
	}
	t.Logf("outcomes: %v", seen)
}

// An update racing its compensation nets zero only where single-document
// updates are atomic: MongoDB, not FerretDB v1 (see the package comment).
func TestUpdateRacingItsCompensationNetsZero(t *testing.T) {
	coll, ctx := scratch(t)
	info, err := coll.Database().RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := info.LookupErr("ferretdbVersion"); err == nil {
		t.Skip("FerretDB applies an update by read, change, write back: two writers to one document can lose one")
	}
	for i := range 60 {
		id := fmt.Sprintf("d%d", i)
		mustInsert(t, ctx, coll, id)
		var wg sync.WaitGroup
		var fwdErr, compErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, fwdErr = mongobarrier.UpdateDoc(ctx, coll, addKey, id, nil, inc(1)) }()
		go func() {
			defer wg.Done()
			_, compErr = mongobarrier.CompensateDoc(ctx, coll, addKey, id, nil, inc(-1), nil)
		}()
		wg.Wait()
		if compErr != nil || (fwdErr != nil && !errors.Is(fwdErr, barrier.ErrCompensated)) {
			t.Fatalf("race %d: update %v, compensate %v", i, fwdErr, compErr)
		}
		if d, marker := get(t, ctx, coll, id, addKey.Step); d.N != 1 || marker != "compensate" {
			t.Fatalf("race %d: %+v, marker %q", i, d, marker)
		}
	}
}
