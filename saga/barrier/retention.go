// This file holds what the two barriers' prunes share: which sagas a prune
// must leave alone, and how many records one call removes.
//
// Barrier records (PostgreSQL rows, MongoDB tombstones) are what refuses a
// late or repeated step, so a record may go only when no step of its saga
// can run again. A saga's steps run while its workflow runs, or again
// after a reset while the workflow's closed history is kept (the
// namespace's retention). The caller decides, from Temporal, a cutoff
// (records written before it are candidates) and the workflows still
// protected; the prunes remove the candidates that no protected workflow
// owns, a batch at a time.

package barrier

import (
	"slices"
	"strings"
)

// DefaultPruneBatch is the number of records a prune call removes at most
// when given no positive limit.
const DefaultPruneBatch = 5000

// Protected is a set of workflow ids whose sagas' barrier records a prune
// keeps, however old.
type Protected map[string]struct{}

// NewProtected returns the set of workflowIDs.
func NewProtected(workflowIDs ...string) Protected {
	p := make(Protected, len(workflowIDs))
	for _, id := range workflowIDs {
		p[id] = struct{}{}
	}
	return p
}

// Has reports whether sagaID is a saga of a protected workflow: the
// workflow id itself (the saga id of sagas that used the bare workflow id)
// or the workflow id, '/' and a run id (Key's "workflow id/first run id").
// A workflow id may hold '/' itself, so the saga id minus its last
// '/'-separated part is compared, not the text before its first '/'. The
// rule errs on the safe side: a saga id "a/b" is protected by "a" as well
// as by "a/b".
func (p Protected) Has(sagaID string) bool {
	if _, ok := p[sagaID]; ok {
		return true
	}
	if i := strings.LastIndexByte(sagaID, '/'); i >= 0 {
		_, ok := p[sagaID[:i]]
		return ok
	}
	return false
}

// IDs returns the workflow ids, sorted.
func (p Protected) IDs() []string {
	ids := make([]string, 0, len(p))
	for id := range p {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// BatchLimit returns limit, or DefaultPruneBatch when limit is not
// positive: the number of records one prune call removes at most.
func BatchLimit(limit int) int {
	if limit <= 0 {
		return DefaultPruneBatch
	}
	return limit
}
