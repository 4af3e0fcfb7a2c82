package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// EventsField is the array of a service document that holds its domain
// events, oldest first. A step appends its event in the same
// single-document write as its change ($push, or the inserted document's
// first element), so the event exists exactly when the change does. An
// event's position is its document's _id and its index in this array,
// which only grows.
const EventsField = "events"

// OutboxCollection is the collection, in each MongoDB service's database,
// that tells the projector which documents hold events it may not have
// read: one entry per event, {_id: "<collection>/<document id>/<kind>",
// coll, doc, kind, at}.
// The entry is written after the document (MongoDB on FerretDB has no
// multi-document transaction), by every attempt of the step that finds its
// event there, so a step does not succeed before its entry exists; the
// projector deletes an entry once the read store holds the document's
// events. An entry holds no event: the document is the record.
const OutboxCollection = "outbox"

// Event is a domain event as a document's events array holds it. The
// document is its order's (its _id is the order id); the event's position
// is its index in the array.
type Event struct {
	// ID names the event: EventID of its collection, document and kind
	// (a step records its kind at most once per document).
	ID     string    `bson:"id" json:"id"`
	Kind   string    `bson:"kind" json:"kind"`
	SagaID string    `bson:"saga_id" json:"saga_id"`
	At     time.Time `bson:"at" json:"at"`
	// Detail is the kind's detail (services.OrderDetail, say); nil for
	// none.
	Detail any `bson:"detail,omitempty" json:"detail,omitempty"`
}

// NewEvent returns the event kind of the document docID of coll, by saga
// sagaID at at, with detail (nil for none).
func NewEvent(coll *mongo.Collection, docID, kind, sagaID string, at time.Time, detail any) Event {
	return Event{ID: EventID(coll.Name(), docID, kind), Kind: kind, SagaID: sagaID, At: at, Detail: detail}
}

// EventID names the event kind of the document docID of the collection
// coll: "<coll>/<docID>/<kind>". Its outbox entry has the same _id.
func EventID(coll, docID, kind string) string { return coll + "/" + docID + "/" + kind }

// PushEvent returns the update operator that appends e to the document's
// events, for a step's update alongside its $set.
func PushEvent(e Event) bson.E {
	return bson.E{Key: "$push", Value: bson.D{{Key: EventsField, Value: e}}}
}

// OutboxEntry is one entry of a service's outbox.
type OutboxEntry struct {
	ID string `bson:"_id"`
	// Coll is the collection of the document.
	Coll  string    `bson:"coll"`
	DocID string    `bson:"doc"`
	Kind  string    `bson:"kind"`
	At    time.Time `bson:"at"`
}

// NoteEvent records in the outbox of coll's database that the document
// docID holds an event of kind. Noting an event twice is one entry; noting
// it again after the projector consumed the entry makes it read the
// document once more, which changes nothing.
func NoteEvent(ctx context.Context, coll *mongo.Collection, docID, kind string, at time.Time) error {
	entry := OutboxEntry{ID: EventID(coll.Name(), docID, kind), Coll: coll.Name(), DocID: docID, Kind: kind, At: at.UTC()}
	_, err := coll.Database().Collection(OutboxCollection).InsertOne(ctx, entry)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("note %s event of %s %s in the outbox: %w", kind, coll.Name(), docID, err)
	}
	return nil
}
