package orders

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/services/mongostore"
)

// auditFields are the fields of an order the invariant checker reads.
var auditFields = bson.D{
	{Key: "_id", Value: 1}, {Key: "saga_id", Value: 1}, {Key: "customer_id", Value: 1},
	{Key: "items", Value: 1}, {Key: "total", Value: 1}, {Key: "status", Value: 1},
}

// Audit calls each with every order document, tombstones included, as the
// invariant checker reads it: only ID, SagaID, CustomerID, Items, Total and
// Status are set. The documents come in no particular order, a batch at a
// time (mongostore.Each): memory holds one batch however many orders the
// collection holds, where All holds them all. An error from each stops the
// read and is returned as is.
func (s *Service) Audit(ctx context.Context, each func(Order) error) error {
	return mongostore.Each(ctx, s.coll, auditFields, each)
}
