// Package shipping is the shipping service: shipment documents in MongoDB,
// one per order, created by the saga and cancelled by its compensation.
//
// Like the orders service, the shipment document is its own barrier
// (saga/mongobarrier): it carries the marker of the step
// CreateShipment, every change is one conditional single-document
// operation, and cancelling a shipment that was never created inserts a
// cancelled tombstone so that a late create is refused.
package shipping

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// Database is the MongoDB database the shipping service owns.
const Database = "shipping"

// Collection is the name of the shipments collection.
const Collection = "shipments"

// StepCreate is the saga step whose barrier marker guards Create and Cancel.
const StepCreate = "CreateShipment"

// DefaultCountries are the destinations served when New is given none.
var DefaultCountries = []string{"AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "NL", "NO", "PL", "PT", "SE", "US", "CA"}

// Status is the state of a shipment.
type Status string

// The statuses of a shipment.
const (
	Created   Status = "CREATED"
	Cancelled Status = "CANCELLED"
)

// Shipment is a shipment document; its _id is the order id.
type Shipment struct {
	OrderID  string           `bson:"_id" json:"order_id"`
	SagaID   string           `bson:"saga_id" json:"saga_id"`
	ShipTo   services.Address `bson:"ship_to" json:"ship_to"`
	Tracking string           `bson:"tracking,omitempty" json:"tracking,omitempty"`
	Status   Status           `bson:"status" json:"status"`
	// Tombstone marks a shipment cancelled before it was ever created (a
	// null compensation); it holds no shipment data.
	Tombstone bool      `bson:"tombstone,omitempty" json:"tombstone,omitempty"`
	CreatedAt time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
}

// Service owns the shipments collection.
type Service struct {
	coll      *mongo.Collection
	countries []string
	now       func() time.Time
}

// New returns a Service on db that ships to countries (ISO codes;
// DefaultCountries when empty). Call Migrate once before use.
func New(db *mongo.Database, countries []string) *Service {
	if len(countries) == 0 {
		countries = DefaultCountries
	}
	return &Service{coll: mongostore.Collection(db, Collection), countries: slices.Clone(countries), now: time.Now}
}

// Collection is the service's collection, for readers of its documents
// that the service does not serve (the read store's check).
func (s *Service) Collection() *mongo.Collection { return s.coll }

// Migrate creates the collection's indexes, those the cleanup reads
// included (see PruneTombstones).
func (s *Service) Migrate(ctx context.Context) error {
	if err := mongostore.EnsureIndexes(ctx, s.coll,
		mongostore.Index{Name: "status", Keys: bson.D{{Key: "status", Value: 1}}},
		mongostore.LegacyTombstoneIndex,
	); err != nil {
		return err
	}
	return mongobarrier.CreateTombstoneIndex(ctx, s.coll)
}

// CheckDestination returns services.ErrInvalidAddress when the address is
// malformed or its country is not served.
func (s *Service) CheckDestination(to services.Address) error {
	if err := to.Validate(); err != nil {
		return fmt.Errorf("%w: %w", services.ErrInvalidAddress, err)
	}
	if !slices.Contains(s.countries, to.Country) {
		return fmt.Errorf("no shipping to %s (served: %s): %w", to.Country, strings.Join(s.countries, " "), services.ErrInvalidAddress)
	}
	return nil
}

// Create books a shipment of the saga's order to the address. Creating it
// again for the same saga returns the same shipment; creating it after it
// was cancelled is refused with services.ErrStepCompensated; a shipment of
// the order that another saga created or cancelled gives
// services.ErrOrderExists; an unserved or malformed address gives
// services.ErrInvalidAddress.
func (s *Service) Create(ctx context.Context, sagaID, orderID string, to services.Address) (Shipment, barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return Shipment{}, 0, err
	}
	if err := s.CheckDestination(to); err != nil {
		return Shipment{}, 0, err
	}
	now := s.now().UTC()
	sh := Shipment{OrderID: orderID, SagaID: sagaID, ShipTo: to, Tracking: tracking(sagaID, orderID),
		Status: Created, CreatedAt: now, UpdatedAt: now}
	created := mongostore.NewEvent(s.coll, orderID, services.EventShipmentCreated, sagaID, now,
		services.ShipmentDetail{Tracking: sh.Tracking, Country: to.Country})
	out, err := mongobarrier.InsertDoc(ctx, s.coll, barrier.Key{SagaID: sagaID, Step: StepCreate},
		withEvents{Shipment: sh, Events: []mongostore.Event{created}})
	if err != nil {
		return Shipment{}, 0, fmt.Errorf("create shipment for %s: %w", orderID, mongostore.BusinessError(err))
	}
	if err := mongostore.NoteEvent(ctx, s.coll, orderID, created.Kind, now); err != nil {
		return Shipment{}, 0, fmt.Errorf("create shipment for %s: %w", orderID, err)
	}
	if out == barrier.Duplicate {
		if sh, err = s.Get(ctx, orderID); err != nil {
			return Shipment{}, 0, fmt.Errorf("create shipment: %w", err)
		}
	}
	return sh, out, nil
}

// Cancel compensates Create. Cancelling twice does nothing; cancelling a
// shipment that was never created inserts a cancelled tombstone (a null
// compensation) so that a late Create is refused. Cancelling the shipment
// of another saga (a new saga of a reused order id) is a null compensation
// that writes nothing: that shipment keeps refusing this saga's Create
// with services.ErrOrderExists.
func (s *Service) Cancel(ctx context.Context, sagaID, orderID string) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	now := s.now().UTC()
	out, err := mongobarrier.CompensateDoc(ctx, s.coll, barrier.Key{SagaID: sagaID, Step: StepCreate}, orderID, nil,
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Cancelled}, {Key: "updated_at", Value: now}}},
			mongostore.PushEvent(mongostore.NewEvent(s.coll, orderID, services.EventShipmentCancelled, sagaID, now, nil))},
		Shipment{OrderID: orderID, SagaID: sagaID, Status: Cancelled, Tombstone: true, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return 0, fmt.Errorf("cancel shipment for %s: %w", orderID, err)
	}
	if out == barrier.Applied || out == barrier.AlreadyCompensated {
		if err := mongostore.NoteEvent(ctx, s.coll, orderID, services.EventShipmentCancelled, now); err != nil {
			return 0, fmt.Errorf("cancel shipment for %s: %w", orderID, err)
		}
	}
	return out, nil
}

// withEvents is a shipment document as Create inserts it: with its first
// event.
type withEvents struct {
	Shipment `bson:",inline"`
	Events   []mongostore.Event `bson:"events"`
}

// Get reads the shipment of one order.
func (s *Service) Get(ctx context.Context, orderID string) (Shipment, error) {
	var sh Shipment
	found, err := mongostore.FindByID(ctx, s.coll, orderID, &sh)
	if err != nil {
		return Shipment{}, err
	}
	if !found {
		return Shipment{}, fmt.Errorf("shipment for order %q: %w", orderID, services.ErrUnknownOrder)
	}
	return sh, nil
}

// All reads every shipment document, tombstones included.
func (s *Service) All(ctx context.Context) ([]Shipment, error) {
	return mongostore.All[Shipment](ctx, s.coll)
}

// tracking derives a stable tracking number from the saga, so a repeated
// Create reports the same one.
func tracking(sagaID, orderID string) string {
	sum := sha256.Sum256([]byte(sagaID + "\x00" + orderID))
	return "TRK-" + strings.ToUpper(hex.EncodeToString(sum[:6]))
}
