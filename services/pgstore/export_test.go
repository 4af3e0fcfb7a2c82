package pgstore

// PruneEventsSQL is PruneEvents' statement, for the test that reads its plan.
var PruneEventsSQL = pruneEvents
