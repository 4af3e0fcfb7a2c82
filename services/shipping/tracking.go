package shipping

// Tracking returns the tracking number Create gives the saga's shipment
// of orderID (a prefill writing shipments in bulk needs the same one).
func Tracking(sagaID, orderID string) string { return tracking(sagaID, orderID) }
