package pgbarrier

// PruneRowsSQL is PruneRows' statement, for the test that reads its plan.
var PruneRowsSQL = pruneRows
