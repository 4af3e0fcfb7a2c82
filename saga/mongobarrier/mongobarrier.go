// Package mongobarrier is the saga engine's idempotency barrier for steps
// whose effect is one change to one MongoDB document (the official Go
// driver, v2): the activity-side half of the engine for MongoDB. (Package
// saga is the workflow side; saga/barrier holds the key and outcomes both
// barriers share; saga/pgbarrier is the PostgreSQL form.)
//
// MongoDB gives no multi-document transaction to put a barrier row in, so the
// marker lives inside the document the step changes:
//
//	{_id: ..., <business fields>..., saga: {id: <saga id>, steps: {<step>: "forward" | "compensate"}}}
//
// The saga that creates a document owns it; only its steps change it. Every
// function below is one conditional single-document operation (an insert
// with a unique _id, or an update whose filter names the marker), followed at
// most by a read of the document to explain why nothing matched:
//
//   - idempotence: a forward operation sets its step's marker in the same
//     write as its change and only runs while the marker is absent; a
//     compensation only runs while the marker says "forward";
//   - null compensation: compensating a step that never ran sets the marker
//     to "compensate" and changes nothing else, or, when the document does
//     not exist, inserts a tombstone carrying that marker under its _id
//     (and, in the marker, tombstone: true and the time it was written, at,
//     by which PruneTombstones removes it once its saga can no longer run);
//   - hang safety: a forward call that finds "compensate" (a late retry) is
//     refused with barrier.ErrCompensated; a late insert is refused by the
//     tombstone's unique _id.
//
// Atomicity. An insert racing its compensation is always safe: the unique
// _id decides who is first, and a compensation whose tombstone loses finds
// the new document and undoes it. Two updates racing on one document (an
// UpdateDoc and its own compensation) are safe on MongoDB, which applies a
// single-document update atomically and re-checks the filter, but not on
// FerretDB v1, which reads, changes and writes back the document without a
// lock: there, run an update step and its compensation one after the other
// (the saga owns its documents and runs its steps in order).
//
// Reads go to the primary. The explaining read decides the outcome (a
// duplicate, a refusal, a null compensation), so it must see at least the
// state the write just matched against: it always asks for the primary with
// read concern "local", whatever the collection's or the client's
// MONGO_URI says (readPreference=secondaryPreferred, nearest, ... would let
// a lagging secondary answer "no document" for a document the primary just
// refused to insert over, and readConcernLevel=majority could hide a write
// the primary acknowledged but has not yet replicated). Writes (insert,
// update) need nothing: MongoDB sends every write to the primary whatever
// the read preference.
package mongobarrier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// MarkerField is the field of a barrier-guarded document that holds its
// owner saga's id ("saga.id") and its steps' markers ("saga.steps.<step>").
// Business fields, preconditions and updates must not use it.
const MarkerField = "saga"

// The values of a step's marker, as in the PostgreSQL barrier's op column.
const (
	opForward    = "forward"
	opCompensate = "compensate"
)

// compensateRounds bounds CompensateDoc's retries when the document appears
// or changes between its write and its read (a tombstone insert that loses
// to a late forward insert, say).
const compensateRounds = 4

var (
	// ErrOwnedByOtherSaga: the document exists and another saga created it.
	// The step is refused and changes nothing.
	ErrOwnedByOtherSaga = errors.New("document owned by another saga")
	// ErrNotFound: UpdateDoc found no document with the id.
	ErrNotFound = errors.New("document not found")
	// ErrPreconditionFailed is what a *PreconditionError wraps.
	ErrPreconditionFailed = errors.New("precondition failed")
)

// PreconditionError says that the saga's document exists and the step has
// neither run nor been compensated, but the document does not meet the
// step's precondition (or, for InsertDoc, exists already without the step's
// marker: another step of the saga created it). Doc is the document as read
// just after the refused write, for the caller to say why.
type PreconditionError struct {
	Key barrier.Key
	// ID is the document's _id: as passed, or, from InsertDoc, the
	// document's own as a bson.RawValue.
	ID  any
	Doc bson.Raw
}

// Error names the step and the document.
func (e *PreconditionError) Error() string {
	return fmt.Sprintf("barrier %s: document %v: %v", e.Key, e.ID, ErrPreconditionFailed)
}

// Unwrap makes errors.Is(err, ErrPreconditionFailed) true.
func (e *PreconditionError) Unwrap() error { return ErrPreconditionFailed }

// InsertDoc is a forward step that creates the document doc (a struct or
// document with an _id) owned by key's saga, with key's step marked
// "forward". When the _id exists already it returns Duplicate if the saga's
// step created it, ErrCompensated if the step was compensated (the document
// is a tombstone or was undone), ErrOwnedByOtherSaga if another saga owns it,
// and a *PreconditionError if another step of the saga created it.
func InsertDoc(ctx context.Context, coll *mongo.Collection, key barrier.Key, doc any) (barrier.Outcome, error) {
	marked, id, err := markDoc(key, doc, nil, opForward)
	if err != nil {
		return 0, err
	}
	_, insertErr := coll.InsertOne(ctx, marked)
	if insertErr == nil {
		return barrier.Applied, nil
	}
	if !mongo.IsDuplicateKeyError(insertErr) {
		return 0, fmt.Errorf("barrier %s: insert %s %v: %w", key, coll.Name(), id, insertErr)
	}
	st, err := read(ctx, coll, key, id)
	if err != nil {
		return 0, err
	}
	// No document: the duplicate is in another unique index.
	return st.refusedForward(key, coll, id, fmt.Errorf("barrier %s: insert %s %v: %w", key, coll.Name(), id, insertErr))
}

// UpdateDoc is a forward step that applies update (update operators such as
// $set and $inc) to the document with _id id, owned by key's saga, if key's
// step has not run and the document matches precondition (a filter; nil for
// none). It marks the step "forward" in the same write. When nothing matches
// it returns Duplicate if the step ran already, ErrCompensated if it was
// compensated, ErrNotFound, ErrOwnedByOtherSaga, or a *PreconditionError
// holding the document.
func UpdateDoc(ctx context.Context, coll *mongo.Collection, key barrier.Key, id any, precondition, update bson.D) (barrier.Outcome, error) {
	filter, marked, err := conditional(key, id, absent, precondition, update, opForward)
	if err != nil {
		return 0, err
	}
	applied, st, err := updateOrRead(ctx, coll, key, id, filter, marked)
	if err != nil {
		return 0, err
	}
	if applied {
		return barrier.Applied, nil
	}
	return st.refusedForward(key, coll, id, fmt.Errorf("barrier %s: %s %v: %w", key, coll.Name(), id, ErrNotFound))
}

// CompensateDoc compensates key's step on the document with _id id:
//
//   - the step ran: if the document matches precondition (nil for none),
//     apply undo (update operators; nil to change nothing but the marker)
//     and mark the step "compensate", returning Applied; otherwise return a
//     *PreconditionError holding the document and change nothing;
//   - the document is the saga's but the step never ran: mark it
//     "compensate" and return NullCompensation, so a later UpdateDoc is
//     refused;
//   - no document: insert tombstone (a document whose _id is id or absent;
//     the marker is added, marked as a tombstone with the time of writing,
//     see PruneTombstones) and return NullCompensation, so a later
//     InsertDoc is refused by the unique _id. With a nil tombstone nothing
//     is written: use nil only when the document cannot appear later;
//   - already compensated: AlreadyCompensated;
//   - another saga owns the document: NullCompensation without a write. No
//     record is needed for hang safety: while the document exists, this
//     saga's InsertDoc and UpdateDoc on it are refused with
//     ErrOwnedByOtherSaga, and the other saga's markers and fields stay
//     untouched (a new saga of a reused order id, say).
//
// A tombstone insert that loses to a late InsertDoc finds the new document
// on the next round and undoes it.
func CompensateDoc(ctx context.Context, coll *mongo.Collection, key barrier.Key, id any, precondition, undo bson.D, tombstone any) (barrier.Outcome, error) {
	applyFilter, applyUpdate, err := conditional(key, id, opForward, precondition, undo, opCompensate)
	if err != nil {
		return 0, err
	}
	nullFilter, nullUpdate, _ := conditional(key, id, absent, nil, nil, opCompensate) // cannot fail now
	var marked bson.D
	if tombstone != nil {
		if marked, _, err = markDoc(key, tombstone, id, opCompensate, tombstoneMarks(time.Now())...); err != nil {
			return 0, err
		}
	}
	sawForward := false
	for range compensateRounds {
		applied, st, err := updateOrRead(ctx, coll, key, id, applyFilter, applyUpdate)
		if err != nil {
			return 0, err
		}
		if applied {
			return barrier.Applied, nil
		}
		switch {
		case st.doc == nil:
			if marked == nil {
				return barrier.NullCompensation, nil
			}
			_, err := coll.InsertOne(ctx, marked)
			if err == nil {
				return barrier.NullCompensation, nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return 0, fmt.Errorf("barrier %s: insert tombstone %s %v: %w", key, coll.Name(), id, err)
			}
			// A late forward insert won: undo it on the next round.
		case st.owner != key.SagaID:
			return barrier.NullCompensation, nil
		case st.op == opCompensate:
			return barrier.AlreadyCompensated, nil
		case st.op == opForward:
			// The document may have been inserted between the update and
			// the read; if the update misses it twice, the precondition
			// is what stops it.
			if sawForward {
				return 0, &PreconditionError{Key: key, ID: id, Doc: st.doc}
			}
			sawForward = true
		default:
			res, err := coll.UpdateOne(ctx, nullFilter, nullUpdate)
			if err != nil {
				return 0, fmt.Errorf("barrier %s: update %s %v: %w", key, coll.Name(), id, err)
			}
			if res.MatchedCount == 1 {
				return barrier.NullCompensation, nil
			}
			// The step ran in the meantime: compensate it on the next round.
		}
	}
	return 0, fmt.Errorf("barrier %s: %s %v changed during compensation; try again", key, coll.Name(), id)
}

// state is what a read found of a guarded document.
type state struct {
	doc   bson.Raw // nil when there is none
	owner string   // saga.id
	op    string   // saga.steps.<step>, "" when the step has no marker
}

// updateOrRead applies update to the document that filter matches or,
// when none does, reads the document id to explain why. The update goes to
// the primary as every write does; the read is sent there explicitly.
func updateOrRead(ctx context.Context, coll *mongo.Collection, key barrier.Key, id any, filter, update bson.D) (bool, state, error) {
	res, err := coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, state{}, fmt.Errorf("barrier %s: update %s %v: %w", key, coll.Name(), id, err)
	}
	if res.MatchedCount == 1 {
		return true, state{}, nil
	}
	st, err := read(ctx, coll, key, id)
	return false, st, err
}

// primaryReads are the options of every read that decides an outcome: the
// primary, and its latest state (see the package comment).
var primaryReads = options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local())

// read reads the document id from the primary, to explain why a write
// matched nothing.
func read(ctx context.Context, coll *mongo.Collection, key barrier.Key, id any) (state, error) {
	doc, err := coll.Clone(primaryReads).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("barrier %s: read %s %v: %w", key, coll.Name(), id, err)
	}
	st := state{doc: doc}
	st.owner, _ = doc.Lookup(MarkerField, "id").StringValueOK()
	st.op, _ = doc.Lookup(MarkerField, "steps", key.Step).StringValueOK()
	return st, nil
}

// refusedForward explains why a forward write on the document id matched
// nothing; missing is the error when there is no document.
func (st state) refusedForward(key barrier.Key, coll *mongo.Collection, id any, missing error) (barrier.Outcome, error) {
	switch {
	case st.doc == nil:
		return 0, missing
	case st.owner != key.SagaID:
		return 0, fmt.Errorf("barrier %s: %s %v owned by saga %q: %w", key, coll.Name(), id, st.owner, ErrOwnedByOtherSaga)
	case st.op == opForward:
		return barrier.Duplicate, nil
	case st.op == opCompensate:
		return 0, fmt.Errorf("barrier %s: %s %v: %w", key, coll.Name(), id, barrier.ErrCompensated)
	}
	return 0, &PreconditionError{Key: key, ID: id, Doc: st.doc}
}

// absent matches a step marker that is not there.
var absent = bson.D{{Key: "$exists", Value: false}}

// conditional returns the filter and update of one guarded write: on the
// document id, if key's saga owns it, key's step marker matches marker and
// the document matches precondition, apply update and set the marker to op.
func conditional(key barrier.Key, id, marker any, precondition, update bson.D, op string) (filter, marked bson.D, err error) {
	if filter, err = guard(key, id, marker, precondition); err != nil {
		return nil, nil, err
	}
	if marked, err = markUpdate(key, update, op); err != nil {
		return nil, nil, err
	}
	return filter, marked, nil
}

// guard is the filter that matches the document id when it is key's saga's
// and key's step marker matches marker, and the document matches
// precondition.
func guard(key barrier.Key, id any, marker any, precondition bson.D) (bson.D, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	filter := bson.D{
		{Key: "_id", Value: id},
		{Key: MarkerField + ".id", Value: key.SagaID},
		{Key: stepPath(key), Value: marker},
	}
	for _, e := range precondition {
		if touchesMarker(e.Key) {
			return nil, fmt.Errorf("barrier %s: precondition names %q, the barrier's field", key, e.Key)
		}
		filter = append(filter, e)
	}
	return filter, nil
}

// markUpdate returns update with $set of key's step marker to op added.
func markUpdate(key barrier.Key, update bson.D, op string) (bson.D, error) {
	mark := bson.E{Key: stepPath(key), Value: op}
	out := make(bson.D, 0, len(update)+1)
	merged := false
	for _, e := range update {
		if !strings.HasPrefix(e.Key, "$") {
			return nil, fmt.Errorf("barrier %s: update field %q is not an update operator", key, e.Key)
		}
		fields, ok := e.Value.(bson.D)
		if !ok {
			return nil, fmt.Errorf("barrier %s: update %s must be a bson.D, not %T", key, e.Key, e.Value)
		}
		for _, f := range fields {
			if touchesMarker(f.Key) {
				return nil, fmt.Errorf("barrier %s: update %s names %q, the barrier's field", key, e.Key, f.Key)
			}
		}
		if e.Key == "$set" {
			fields = append(fields[:len(fields):len(fields)], mark)
			merged = true
		}
		out = append(out, bson.E{Key: e.Key, Value: fields})
	}
	if !merged {
		out = append(out, bson.E{Key: "$set", Value: bson.D{mark}})
	}
	return out, nil
}

// markDoc returns doc as a document with key's marker set to op, and its
// _id. When want is not nil the _id must be want, and is added if missing.
// extra are added to the marker (a tombstone's time, say).
func markDoc(key barrier.Key, doc any, want any, op string, extra ...bson.E) (bson.D, any, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("barrier %s: encode document: %w", key, err)
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil {
		return nil, nil, fmt.Errorf("barrier %s: encode document: %w", key, err)
	}
	out := make(bson.D, 0, len(elems)+2)
	var id any
	for _, e := range elems {
		switch e.Key() {
		case MarkerField:
			return nil, nil, fmt.Errorf("barrier %s: document has a field %q, the barrier's field", key, MarkerField)
		case "_id":
			id = e.Value()
		}
		out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
	}
	switch {
	case id == nil && want == nil:
		return nil, nil, fmt.Errorf("barrier %s: document has no _id", key)
	case id == nil:
		id = want
		out = append(bson.D{{Key: "_id", Value: want}}, out...)
	case want != nil && !sameValue(id, want):
		return nil, nil, fmt.Errorf("barrier %s: tombstone _id %v differs from %v", key, id, want)
	}
	marker := bson.D{
		{Key: "id", Value: key.SagaID},
		{Key: "steps", Value: bson.D{{Key: key.Step, Value: op}}},
	}
	out = append(out, bson.E{Key: MarkerField, Value: append(marker, extra...)})
	return out, id, nil
}

// sameValue reports whether a raw _id and a Go value encode alike.
func sameValue(raw, v any) bool {
	a, err1 := bson.Marshal(bson.D{{Key: "v", Value: raw}})
	b, err2 := bson.Marshal(bson.D{{Key: "v", Value: v}})
	return err1 == nil && err2 == nil && string(a) == string(b)
}

func stepPath(key barrier.Key) string { return MarkerField + ".steps." + key.Step }

func touchesMarker(path string) bool {
	return path == MarkerField || strings.HasPrefix(path, MarkerField+".")
}

// checkKey refuses keys that would not make a field path of their own.
func checkKey(key barrier.Key) error {
	if key.SagaID == "" {
		return fmt.Errorf("barrier %s: empty saga id", key)
	}
	if key.Step == "" || strings.ContainsAny(key.Step, ".$\x00") {
		return fmt.Errorf("barrier %s: step %q must be non-empty and free of '.', '$' and NUL", key, key.Step)
	}
	return nil
}
