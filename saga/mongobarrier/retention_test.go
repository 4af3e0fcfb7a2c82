package mongobarrier_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/internal/storetest"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// oldTombstone inserts a tombstone as CompensateDoc writes them, written
// at at.
func oldTombstone(t *testing.T, ctx context.Context, coll *mongo.Collection, id, sagaID string, at time.Time) {
	t.Helper()
	if _, err := coll.InsertOne(ctx, bson.D{
		{Key: "_id", Value: id}, {Key: "status", Value: "cancelled"}, {Key: "tombstone", Value: true},
		{Key: mongobarrier.MarkerField, Value: bson.D{
			{Key: "id", Value: sagaID}, {Key: "steps", Value: bson.D{{Key: "Create", Value: "compensate"}}},
			{Key: "tombstone", Value: true}, {Key: "at", Value: at},
		}},
	}); err != nil {
		t.Fatal(err)
	}
}

func ids(t *testing.T, ctx context.Context, coll *mongo.Collection) []string {
	t.Helper()
	var docs []doc
	cur, err := coll.Find(ctx, bson.D{})
	if err == nil {
		err = cur.All(ctx, &docs)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}

// TestTombstonesCarryTheirTime: a tombstone says it is one and when it was
// written; the documents of forward steps do not.
func TestTombstonesCarryTheirTime(t *testing.T) {
	coll, ctx := scratch(t)
	before := time.Now().Add(-time.Second)
	got, err := mongobarrier.CompensateDoc(ctx, coll, createKey, "d1", nil, cancel, tombstone("d1"))
	want(t, "null compensation", got, err, barrier.NullCompensation)
	got, err = mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: "s1", Step: "Create"}, open("d2"))
	want(t, "insert", got, err, barrier.Applied)
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "d1"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if flag, ok := raw.Lookup(mongobarrier.MarkerField, "tombstone").BooleanOK(); !ok || !flag {
		t.Errorf("tombstone without saga.tombstone: %v", raw)
	}
	at, ok := raw.Lookup(mongobarrier.MarkerField, "at").TimeOK()
	if !ok || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("tombstone saga.at %v (ok %v), want about now", at, ok)
	}
	raw, err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: "d2"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr(mongobarrier.MarkerField, "at"); err == nil {
		t.Errorf("a forward step's document carries saga.at: %v", raw)
	}
}

// TestPruneTombstonesRemovesOnlyOldUnprotectedTombstonesInBatches: 12 old
// tombstones of unprotected sagas go in batches of 5; old tombstones of
// protected sagas, old business documents (compensated or not), a fresh
// tombstone and one written before tombstones carried their time stay,
// and the protected sagas' late inserts are still refused.
func TestPruneTombstonesRemovesOnlyOldUnprotectedTombstonesInBatches(t *testing.T) {
	coll, ctx := scratch(t)
	if err := mongobarrier.CreateTombstoneIndex(ctx, coll); err != nil {
		t.Fatal(err)
	}
	if err := mongobarrier.CreateTombstoneIndex(ctx, coll); err != nil {
		t.Fatalf("second index creation: %v", err)
	}
	now := time.Now()
	old, cutoff := now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)
	var doomed []string
	for i := range 12 {
		id := fmt.Sprintf("t%02d", i)
		doomed = append(doomed, id)
		oldTombstone(t, ctx, coll, id, fmt.Sprintf("order-%s/run-%d", id, i), old.Add(time.Duration(i)*time.Minute))
	}
	kept := map[string]string{"k1": "order-kept/run-1", "k2": "order-bare", "k3": "order-a/b/run-2"}
	for id, sagaID := range kept {
		oldTombstone(t, ctx, coll, id, sagaID, old)
	}
	// Business documents: one compensated (its marker says so), one not.
	for _, id := range []string{"b1", "b2"} {
		key := barrier.Key{SagaID: "order-" + id + "/run", Step: "Create"}
		got, err := mongobarrier.InsertDoc(ctx, coll, key, open(id))
		want(t, "insert "+id, got, err, barrier.Applied)
		if id == "b1" {
			got, err = mongobarrier.CompensateDoc(ctx, coll, key, id, nil, cancel, tombstone(id))
			want(t, "cancel "+id, got, err, barrier.Applied)
		}
	}
	got, err := mongobarrier.CompensateDoc(ctx, coll, barrier.Key{SagaID: "order-fresh/run", Step: "Create"}, "fresh", nil, cancel, tombstone("fresh"))
	want(t, "fresh tombstone", got, err, barrier.NullCompensation)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "legacy"}, {Key: "tombstone", Value: true},
		{Key: mongobarrier.MarkerField, Value: bson.D{{Key: "id", Value: "order-legacy/run"}, {Key: "steps", Value: bson.D{{Key: "Create", Value: "compensate"}}}}}}); err != nil {
		t.Fatal(err)
	}
	protected := barrier.NewProtected("order-kept", "order-bare", "order-a/b")

	calls := storetest.PruneAll(t, func(limit int) (int, error) {
		return mongobarrier.PruneTombstones(ctx, coll, cutoff, protected, limit)
	}, 5)
	if !slices.Equal(calls, []int{5, 5, 2}) {
		t.Fatalf("batches removed %v, want [5 5 2]", calls)
	}
	left := ids(t, ctx, coll)
	for _, id := range doomed {
		if slices.Contains(left, id) {
			t.Errorf("old unprotected tombstone %s kept", id)
		}
	}
	for _, id := range []string{"k1", "k2", "k3", "b1", "b2", "fresh", "legacy"} {
		if !slices.Contains(left, id) {
			t.Errorf("%s pruned", id)
		}
	}
	for id, sagaID := range kept {
		if _, err := mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: sagaID, Step: "Create"}, open(id)); !errors.Is(err, barrier.ErrCompensated) {
			t.Errorf("late insert of protected %s: %v, want refused", sagaID, err)
		}
	}
}

// TestStampTombstonesDatesLegacyTombstones: tombstones written before they
// carried their time get the stamping's time, a batch at a time, and can
// then be pruned by it; other documents are not touched.
func TestStampTombstonesDatesLegacyTombstones(t *testing.T) {
	coll, ctx := scratch(t)
	legacy := bson.D{{Key: "tombstone", Value: true}}
	for _, id := range []string{"l1", "l2", "l3"} {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tombstone", Value: true},
			{Key: mongobarrier.MarkerField, Value: bson.D{{Key: "id", Value: "order-" + id + "/run"}, {Key: "steps", Value: bson.D{{Key: "Create", Value: "compensate"}}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := mongobarrier.InsertDoc(ctx, coll, barrier.Key{SagaID: "order-b/run", Step: "Create"}, open("b"))
	want(t, "insert", got, err, barrier.Applied)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "unguarded"}, {Key: "tombstone", Value: true}}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-48 * time.Hour).Truncate(time.Millisecond)
	calls := storetest.PruneAll(t, func(limit int) (int, error) {
		return mongobarrier.StampTombstones(ctx, coll, legacy, at, limit)
	}, 2)
	if !slices.Equal(calls, []int{2, 1}) {
		t.Fatalf("stamps %v, want [2 1]", calls)
	}
	if n, err := mongobarrier.StampTombstones(ctx, coll, legacy, time.Now(), 10); err != nil || n != 0 {
		t.Fatalf("second stamping: %d, %v; want none", n, err)
	}
	if _, err := mongobarrier.StampTombstones(ctx, coll, bson.D{{Key: "saga.id", Value: "x"}}, at, 10); err == nil {
		t.Error("a filter on the barrier's field was accepted")
	}
	n, err := mongobarrier.PruneTombstones(ctx, coll, at.Add(time.Millisecond), nil, 10)
	if err != nil || n != 3 {
		t.Fatalf("prune after stamping: %d, %v; want 3", n, err)
	}
	if left := ids(t, ctx, coll); !slices.Equal(left, []string{"b", "unguarded"}) {
		t.Fatalf("left %v, want [b unguarded]", left)
	}
}
