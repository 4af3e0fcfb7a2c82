// Package mongostore holds what the MongoDB-backed services share: index
// creation, reads, and the mapping of the idempotency barrier's refusals
// (saga/mongobarrier's InsertDoc, UpdateDoc and CompensateDoc, which guard every
// write of these services) to business errors.
package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Collection returns the collection name of db with every read sent to the
// primary with read concern "local", whatever MONGO_URI asks
// (readPreference=secondaryPreferred, nearest, readConcernLevel=majority):
// the services read a document back to decide a step's outcome or answer
// (a duplicate shipment's tracking number, say), and a lagging secondary
// would answer "no such document" for one the primary just wrote. Writes
// need no option: they always go to the primary.
func Collection(db *mongo.Database, name string) *mongo.Collection {
	return db.Collection(name, options.Collection().
		SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local()))
}

// Index is one secondary index on a collection.
type Index struct {
	Name string
	Keys bson.D
	// Sparse leaves out the documents that lack the indexed fields.
	Sparse bool
}

// EnsureIndexes creates the indexes that do not exist yet. It creates them
// one at a time: FerretDB v1.24 drops the connection when one createIndexes
// command names several indexes that all exist already, while a single
// existing index is accepted as a no-op.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, indexes ...Index) error {
	for _, ix := range indexes {
		opts := options.Index().SetName(ix.Name)
		if ix.Sparse {
			opts.SetSparse(true)
		}
		model := mongo.IndexModel{Keys: ix.Keys, Options: opts}
		if _, err := coll.Indexes().CreateOne(ctx, model); err != nil {
			return fmt.Errorf("create index %s on %s: %w", ix.Name, coll.Name(), err)
		}
	}
	return nil
}

// FindByID decodes the document with _id id into out; found is false when
// there is none.
func FindByID(ctx context.Context, coll *mongo.Collection, id string, out any) (found bool, err error) {
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s %q: %w", coll.Name(), id, err)
	}
	return true, nil
}

// All decodes every document of coll, in _id order.
func All[T any](ctx context.Context, coll *mongo.Collection) ([]T, error) {
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	return out, nil
}
