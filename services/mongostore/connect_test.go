package mongostore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// TestUpdatesFromSeveralFullClientsAllComplete fills three clients (three
// worker processes, say) with conditional updates, more than each has
// connections, each to a document of its own (FerretDB's updates are not
// atomic between writers of one document; the sagas have one writer per
// document). FerretDB 1.24 on PostgreSQL needs two pool connections per
// update, and with as many updates in flight as its pool holds it stops
// answering for good: the stack's pool must outnumber what the clients can
// have in flight (stack: ferretDBPoolMaxConns; the stack's old pool of 30
// stalled here).
func TestUpdatesFromSeveralFullClientsAllComplete(t *testing.T) {
	const clients, docs = 3, 2 * mongostore.MaxPoolSize
	uri := testenv.Config(t, config.EnvMongoURI).MongoURI
	coll := testenv.Mongo(t).Collection("stall")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for i := range clients * docs {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: 0}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients*docs)
	for c := range clients {
		client, err := mongostore.Connect(uri)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck // closing
		mine := client.Database(coll.Database().Name()).Collection(coll.Name())
		for d := range docs {
			i := c*docs + d
			wg.Go(func() {
				res, err := mine.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: 0}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
				switch {
				case err != nil:
					errs <- fmt.Errorf("client %d, doc %d: %w", c, i, err)
				case res.ModifiedCount != 1:
					errs <- fmt.Errorf("client %d, doc %d: modified %d", c, i, res.ModifiedCount)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	var failed []string
	for err := range errs {
		failed = append(failed, err.Error())
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d updates failed (a stalled FerretDB times them out), first: %s", len(failed), clients*docs, strings.Join(failed[:1], ""))
	}
	for i := range clients * docs {
		var doc struct{ N int }
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: i}}).Decode(&doc); err != nil || doc.N != 1 {
			t.Fatalf("doc %d: n %d, %v; want 1", i, doc.N, err)
		}
	}
}
