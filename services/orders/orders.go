// Package orders is the order service: order documents in MongoDB, created
// PENDING by the saga, confirmed at its pivot or cancelled by its
// compensation.
//
// The order document is its own barrier (saga/mongobarrier): it
// carries the markers of the steps CreateOrder and ConfirmOrder, and every
// change is one conditional single-document operation. Cancelling an order
// that was never created inserts a cancelled tombstone under its id, so a
// late create is refused by the unique _id.
package orders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// Database is the MongoDB database the orders service owns.
const Database = "orders"

// Collection is the name of the orders collection.
const Collection = "orders"

// The saga steps whose barrier markers the order document carries.
const (
	// StepCreate guards Create and its compensation Cancel.
	StepCreate = "CreateOrder"
	// StepConfirm guards Confirm, the saga's pivot (no compensation).
	StepConfirm = "ConfirmOrder"
)

// maxReason is the longest cancellation reason kept, in bytes.
const maxReason = 1000

// Status is the state of an order.
type Status string

// The statuses of an order.
const (
	Pending   Status = "PENDING"
	Confirmed Status = "CONFIRMED"
	Cancelled Status = "CANCELLED"
)

// Order is an order document.
type Order struct {
	ID         string           `bson:"_id" json:"order_id"`
	SagaID     string           `bson:"saga_id" json:"saga_id"`
	CustomerID string           `bson:"customer_id,omitempty" json:"customer_id,omitempty"`
	Region     string           `bson:"region,omitempty" json:"region,omitempty"`
	Items      []services.Item  `bson:"items,omitempty" json:"items,omitempty"`
	ShipTo     services.Address `bson:"ship_to" json:"ship_to"`
	// Total is the order's price in minor units.
	Total  int64  `bson:"total,omitempty" json:"total,omitempty"`
	Status Status `bson:"status" json:"status"`
	// Reason says why a cancelled order was cancelled.
	Reason string `bson:"reason,omitempty" json:"reason,omitempty"`
	// Tombstone marks an order cancelled before it was ever created (a null
	// compensation); it holds no order data.
	Tombstone bool      `bson:"tombstone,omitempty" json:"tombstone,omitempty"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}

// Validate checks every field a new order needs.
func (o Order) Validate() error {
	if err := services.ValidateID("order_id", o.ID); err != nil {
		return err
	}
	if err := services.ValidateID("customer_id", o.CustomerID); err != nil {
		return err
	}
	if err := services.ValidateID("region", o.Region); err != nil {
		return err
	}
	if _, err := services.NormalizeItems(o.Items); err != nil {
		return err
	}
	if err := o.ShipTo.Validate(); err != nil {
		return err
	}
	return services.ValidateAmount("total", o.Total)
}

// Service owns the orders collection.
type Service struct {
	coll *mongo.Collection
	now  func() time.Time
}

// New returns a Service on db. Call Migrate once before use.
func New(db *mongo.Database) *Service {
	return &Service{coll: mongostore.Collection(db, Collection), now: time.Now}
}

// Collection is the service's collection, for readers of its documents
// that the service does not serve (the read store's check).
func (s *Service) Collection() *mongo.Collection { return s.coll }

// Migrate creates the collection's indexes, those the cleanup reads
// included (see PruneTombstones).
func (s *Service) Migrate(ctx context.Context) error {
	if err := mongostore.EnsureIndexes(ctx, s.coll,
		mongostore.Index{Name: "status", Keys: bson.D{{Key: "status", Value: 1}}},
		mongostore.Index{Name: "customer_id", Keys: bson.D{{Key: "customer_id", Value: 1}}},
		mongostore.LegacyTombstoneIndex,
	); err != nil {
		return err
	}
	return mongobarrier.CreateTombstoneIndex(ctx, s.coll)
}

// Create inserts the order, PENDING, owned by the saga. Creating it again
// for the same saga does nothing; creating it after it was cancelled is
// refused with services.ErrStepCompensated; an id another saga owns gives
// services.ErrOrderExists.
func (s *Service) Create(ctx context.Context, sagaID string, o Order) (barrier.Outcome, error) {
	if err := services.ValidateSagaID("saga_id", sagaID); err != nil {
		return 0, err
	}
	if err := o.Validate(); err != nil {
		return 0, err
	}
	items, _ := services.NormalizeItems(o.Items) // validated above
	now := s.now().UTC()
	o.SagaID, o.Items, o.Status, o.Reason, o.Tombstone = sagaID, items, Pending, "", false
	o.CreatedAt, o.UpdatedAt = now, now
	created := mongostore.NewEvent(s.coll, o.ID, services.EventOrderCreated, sagaID, now,
		services.OrderDetail{CustomerID: o.CustomerID, Region: o.Region, Items: items, Total: o.Total})
	out, err := mongobarrier.InsertDoc(ctx, s.coll, barrier.Key{SagaID: sagaID, Step: StepCreate},
		withEvents{Order: o, Events: []mongostore.Event{created}})
	if err != nil {
		return 0, fmt.Errorf("create order %s: %w", o.ID, mongostore.BusinessError(err))
	}
	if err := mongostore.NoteEvent(ctx, s.coll, o.ID, created.Kind, now); err != nil {
		return 0, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return out, nil
}

// withEvents is an order document as Create inserts it: with its first
// event.
type withEvents struct {
	Order  `bson:",inline"`
	Events []mongostore.Event `bson:"events"`
}

// Confirm moves the saga's order from PENDING to CONFIRMED: the saga's pivot.
// Confirming twice does nothing; confirming a cancelled order is refused
// with services.ErrOrderCancelled.
func (s *Service) Confirm(ctx context.Context, sagaID, orderID string) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	now := s.now().UTC()
	out, err := mongobarrier.UpdateDoc(ctx, s.coll, barrier.Key{SagaID: sagaID, Step: StepConfirm}, orderID,
		bson.D{{Key: "status", Value: Pending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Confirmed}, {Key: "updated_at", Value: now}}},
			mongostore.PushEvent(mongostore.NewEvent(s.coll, orderID, services.EventOrderConfirmed, sagaID, now, nil))})
	if status, ok := mongostore.RefusedStatus(err); ok {
		if status == string(Cancelled) {
			return 0, fmt.Errorf("confirm order %s: %w", orderID, services.ErrOrderCancelled)
		}
		return 0, fmt.Errorf("confirm order %s: unexpected status %q: %w", orderID, status, err)
	}
	if err != nil {
		return 0, fmt.Errorf("confirm order %s: %w", orderID, mongostore.BusinessError(err))
	}
	if err := mongostore.NoteEvent(ctx, s.coll, orderID, services.EventOrderConfirmed, now); err != nil {
		return 0, fmt.Errorf("confirm order %s: %w", orderID, err)
	}
	return out, nil
}

// Cancel compensates Create: the saga's PENDING order becomes CANCELLED with
// reason. Cancelling twice does nothing; cancelling an order that was never
// created inserts a cancelled tombstone (a null compensation) so that a late
// Create is refused; cancelling a confirmed order is refused with
// services.ErrOrderConfirmed. Cancelling an order another saga created (a
// new saga of a reused order id) is a null compensation that writes
// nothing: the other saga's document keeps refusing this saga's Create and
// Confirm with services.ErrOrderExists.
func (s *Service) Cancel(ctx context.Context, sagaID, orderID, reason string) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "")
	}
	now := s.now().UTC()
	out, err := mongobarrier.CompensateDoc(ctx, s.coll, barrier.Key{SagaID: sagaID, Step: StepCreate}, orderID,
		bson.D{{Key: "status", Value: Pending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Cancelled}, {Key: "reason", Value: reason}, {Key: "updated_at", Value: now}}},
			mongostore.PushEvent(mongostore.NewEvent(s.coll, orderID, services.EventOrderCancelled, sagaID, now,
				services.CancelDetail{Reason: reason}))},
		Order{ID: orderID, SagaID: sagaID, Status: Cancelled, Reason: reason, Tombstone: true, CreatedAt: now, UpdatedAt: now})
	if status, ok := mongostore.RefusedStatus(err); ok {
		if status == string(Confirmed) {
			return 0, fmt.Errorf("cancel order %s: %w", orderID, services.ErrOrderConfirmed)
		}
		return 0, fmt.Errorf("cancel order %s: unexpected status %q: %w", orderID, status, err)
	}
	if err != nil {
		return 0, fmt.Errorf("cancel order %s: %w", orderID, err)
	}
	if out == barrier.Applied || out == barrier.AlreadyCompensated {
		if err := mongostore.NoteEvent(ctx, s.coll, orderID, services.EventOrderCancelled, now); err != nil {
			return 0, fmt.Errorf("cancel order %s: %w", orderID, err)
		}
	}
	return out, nil
}

// Get reads one order.
func (s *Service) Get(ctx context.Context, orderID string) (Order, error) {
	var o Order
	found, err := mongostore.FindByID(ctx, s.coll, orderID, &o)
	if err != nil {
		return Order{}, err
	}
	if !found {
		return Order{}, fmt.Errorf("order %q: %w", orderID, services.ErrUnknownOrder)
	}
	return o, nil
}

// All reads every order document, tombstones included.
func (s *Service) All(ctx context.Context) ([]Order, error) {
	return mongostore.All[Order](ctx, s.coll)
}
