package prefill

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// docBatch is the number of documents of one InsertMany, and
// docParallel how many run at once: few enough to leave the MongoDB
// client's pool (mongostore.MaxPoolSize) to others.
const (
	docBatch    = 1_000
	docParallel = 4
)

// refuseExistingDocs returns ErrExists when the first or the last order
// of the range has an order or shipment document (a Fill that failed
// before its PostgreSQL rows committed may have left documents).
func (p *planner) refuseExistingDocs(ctx context.Context, lo, hi string) error {
	for _, coll := range []*mongo.Collection{p.orders, p.shipments} {
		for _, id := range []string{lo, hi} {
			err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue
			}
			if err != nil {
				return fmt.Errorf("prefill: look for existing %s: %w", coll.Name(), err)
			}
			return fmt.Errorf("prefill: orders %s to %s: %s holds %s: %w", lo, hi, coll.Name(), id, ErrExists)
		}
	}
	return nil
}

// writeDocs inserts the batch's order and shipment documents, docBatch at
// a time, docParallel at once, unordered.
func (p *planner) writeDocs(ctx context.Context, b *batch) error {
	type chunk struct {
		coll *mongo.Collection
		docs []any
	}
	var chunks []chunk
	for _, c := range []chunk{{p.orders, b.orderDocs}, {p.shipments, b.shipmentDocs}} {
		for i := 0; i < len(c.docs); i += docBatch {
			chunks = append(chunks, chunk{c.coll, c.docs[i:min(i+docBatch, len(c.docs))]})
		}
	}
	work := make(chan chunk)
	errs := make([]error, docParallel)
	var wg sync.WaitGroup
	for w := range docParallel {
		wg.Go(func() {
			for c := range work {
				if errs[w] != nil {
					continue // drain
				}
				errs[w] = insert(ctx, c.coll, c.docs)
			}
		})
	}
	for _, c := range chunks {
		select {
		case work <- c:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

func insert(ctx context.Context, coll *mongo.Collection, docs []any) error {
	_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("insert into %s: %w: %w", coll.Name(), ErrExists, err)
	}
	if err != nil {
		return fmt.Errorf("insert into %s: %w", coll.Name(), err)
	}
	return nil
}
