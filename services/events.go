package services

// The domain events: what a step or a compensation did, in business terms.
// Each service records its event atomically with the change it describes
// (PostgreSQL: in the step's transaction; MongoDB: in the document's single
// write), and the projector builds the read store from them. A null
// compensation (undoing a step that never ran) changes nothing and records
// no event.
const (
	// EventOrderCreated: orders created the order, PENDING (OrderDetail).
	EventOrderCreated = "OrderCreated"
	// EventOrderConfirmed: orders confirmed the order, the saga's pivot.
	EventOrderConfirmed = "OrderConfirmed"
	// EventOrderCancelled: orders cancelled the order (CancelDetail).
	EventOrderCancelled = "OrderCancelled"
	// EventStockReserved: inventory reserved the order's lines ([]StockLine).
	EventStockReserved = "StockReserved"
	// EventStockReleased: inventory returned the lines to stock ([]StockLine).
	EventStockReleased = "StockReleased"
	// EventPaymentCaptured: payments captured the amount (PaymentDetail).
	EventPaymentCaptured = "PaymentCaptured"
	// EventPaymentRefunded: payments refunded the capture (PaymentDetail).
	EventPaymentRefunded = "PaymentRefunded"
	// EventShipmentCreated: shipping booked the shipment (ShipmentDetail).
	EventShipmentCreated = "ShipmentCreated"
	// EventShipmentCancelled: shipping cancelled the shipment.
	EventShipmentCancelled = "ShipmentCancelled"
)

// StockLine is one SKU of a reservation as the stock events carry it.
// UnitPrice (minor units) is the price when the stock was reserved; the
// release events of reservations made before events carried prices, and
// every release, may leave it 0.
type StockLine struct {
	SKU       string `json:"sku" bson:"sku"`
	Quantity  int64  `json:"quantity" bson:"quantity"`
	UnitPrice int64  `json:"unit_price,omitempty" bson:"unit_price,omitempty"`
}

// PaymentDetail is the detail of PaymentCaptured and PaymentRefunded.
type PaymentDetail struct {
	CustomerID string `json:"customer_id" bson:"customer_id"`
	Amount     int64  `json:"amount" bson:"amount"`
}

// OrderDetail is the detail of OrderCreated.
type OrderDetail struct {
	CustomerID string `json:"customer_id" bson:"customer_id"`
	Region     string `json:"region" bson:"region"`
	Items      []Item `json:"items" bson:"items"`
	Total      int64  `json:"total" bson:"total"`
}

// CancelDetail is the detail of OrderCancelled.
type CancelDetail struct {
	Reason string `json:"reason,omitempty" bson:"reason,omitempty"`
}

// ShipmentDetail is the detail of ShipmentCreated.
type ShipmentDetail struct {
	Tracking string `json:"tracking" bson:"tracking"`
	Country  string `json:"country" bson:"country"`
}
