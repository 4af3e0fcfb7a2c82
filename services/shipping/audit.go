package shipping

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/services/mongostore"
)

// auditFields are the fields of a shipment the invariant checker reads.
var auditFields = bson.D{{Key: "_id", Value: 1}, {Key: "saga_id", Value: 1}, {Key: "status", Value: 1}}

// Audit calls each with every shipment document, tombstones included, as
// the invariant checker reads it: only OrderID, SagaID and Status are set.
// The documents come in no particular order, a batch at a time
// (mongostore.Each): memory holds one batch however many shipments the
// collection holds, where All holds them all. An error from each stops the
// read and is returned as is.
func (s *Service) Audit(ctx context.Context, each func(Shipment) error) error {
	return mongostore.Each(ctx, s.coll, auditFields, each)
}
