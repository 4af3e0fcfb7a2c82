package invariants

// ReferenceCheck is referenceCheck, for the external tests.
var ReferenceCheck = referenceCheck
