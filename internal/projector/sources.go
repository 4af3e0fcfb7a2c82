package projector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// Source is one service whose events the projector reads.
type Source interface {
	name() string
	// reset forgets what the source remembers of the read store (its
	// position), to read it again from the store: at each new lease.
	reset()
	// read returns the next events the read store may not hold, at most
	// about limit, as a batch, what to do once the batch is committed, and
	// whether the read hit limit (more may be waiting).
	read(ctx context.Context, store *readstore.Store, limit int) (b readstore.Batch, done func(context.Context) error, full bool, err error)
	// backlog measures what the read store has still to read.
	backlog(ctx context.Context, store *readstore.Store) (readstore.SourceLag, error)
}

// logSource reads a PostgreSQL service's event log from the read store's
// position (pgstore.ReadEvents never skips an event of a transaction that
// commits late).
type logSource struct {
	source string
	db     pgstore.Querier
	pos    *pgstore.Position // nil: read it from the store
}

func (s *logSource) name() string { return s.source }
func (s *logSource) reset()       { s.pos = nil }

func (s *logSource) position(ctx context.Context, store *readstore.Store) (pgstore.Position, error) {
	if s.pos == nil {
		p, err := store.Position(ctx, s.source)
		if err != nil {
			return pgstore.Position{}, err
		}
		s.pos = &p
	}
	return *s.pos, nil
}

func (s *logSource) read(ctx context.Context, store *readstore.Store, limit int) (readstore.Batch, func(context.Context) error, bool, error) {
	pos, err := s.position(ctx, store)
	if err != nil {
		return readstore.Batch{}, nil, false, err
	}
	events, err := pgstore.ReadEvents(ctx, s.db, pos, limit)
	if err != nil {
		return readstore.Batch{}, nil, false, fmt.Errorf("%s: %w", s.source, err)
	}
	b := readstore.Batch{Source: s.source}
	if len(events) == 0 {
		return b, nil, false, nil
	}
	for _, e := range events {
		b.Events = append(b.Events, readstore.Event{
			ID: readstore.PGEventID(s.source, e.Position.ID), Source: s.source, Position: e.Position,
			OrderID: e.OrderID, SagaID: e.SagaID, Kind: e.Kind, OccurredAt: e.OccurredAt, Detail: e.Detail,
		})
	}
	last := events[len(events)-1].Position
	b.Position = &last
	return b, func(context.Context) error { s.pos = &last; return nil }, len(events) == limit, nil
}

// backlogLimit bounds the count of a source's backlog.
const backlogLimit = 1_000_000

func (s *logSource) backlog(ctx context.Context, store *readstore.Store) (readstore.SourceLag, error) {
	pos, err := s.position(ctx, store)
	if err != nil {
		return readstore.SourceLag{}, err
	}
	b, err := pgstore.Pending(ctx, s.db, pos, backlogLimit)
	if err != nil {
		return readstore.SourceLag{}, fmt.Errorf("%s: %w", s.source, err)
	}
	return readstore.SourceLag{Source: s.source, Events: b.Events, Oldest: b.Oldest, Measured: time.Now()}, nil
}

// docSource reads a MongoDB service's events: its outbox names the
// documents that hold events the read store may not have; the source reads
// each such document whole, hands all its events to the store (which keeps
// those past the view's count for the document) and, once they are
// committed, deletes the outbox entries it read.
type docSource struct {
	source string
	docs   *mongo.Collection
	outbox *mongo.Collection
}

func newDocSource(source string, docs *mongo.Collection) *docSource {
	return &docSource{source: source, docs: docs, outbox: docs.Database().Collection(mongostore.OutboxCollection)}
}

func (s *docSource) name() string { return s.source }
func (s *docSource) reset()       {}

// mine selects the outbox entries of the source's collection (two
// services may share a database, as the tests' do).
func (s *docSource) mine() bson.D { return bson.D{{Key: "coll", Value: s.docs.Name()}} }

// docEvents is the part of a service document the projector reads.
type docEvents struct {
	ID     string `bson:"_id"`
	Events []struct {
		ID     string    `bson:"id"`
		Kind   string    `bson:"kind"`
		SagaID string    `bson:"saga_id"`
		At     time.Time `bson:"at"`
		Detail bson.Raw  `bson:"detail"`
	} `bson:"events"`
}

func (s *docSource) read(ctx context.Context, _ *readstore.Store, limit int) (readstore.Batch, func(context.Context) error, bool, error) {
	b := readstore.Batch{Source: s.source}
	cur, err := s.outbox.Find(ctx, s.mine(), options.Find().SetLimit(int64(limit)))
	if err != nil {
		return b, nil, false, fmt.Errorf("%s: read outbox: %w", s.source, err)
	}
	var entries []mongostore.OutboxEntry
	if err := cur.All(ctx, &entries); err != nil {
		return b, nil, false, fmt.Errorf("%s: read outbox: %w", s.source, err)
	}
	if len(entries) == 0 {
		return b, nil, false, nil
	}
	read := map[string]bool{}
	ids := make([]string, 0, len(entries))
	for _, en := range entries {
		ids = append(ids, en.ID)
		if read[en.DocID] {
			continue
		}
		read[en.DocID] = true
		var doc docEvents
		err := s.docs.FindOne(ctx, bson.D{{Key: "_id", Value: en.DocID}},
			options.FindOne().SetProjection(bson.D{{Key: "events", Value: 1}})).Decode(&doc)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // a tombstone pruned since: it held no event
		}
		if err != nil {
			return b, nil, false, fmt.Errorf("%s: read %s: %w", s.source, en.DocID, err)
		}
		for i, e := range doc.Events {
			ev := readstore.Event{ID: e.ID, Source: s.source, Index: i,
				OrderID: doc.ID, SagaID: e.SagaID, Kind: e.Kind, OccurredAt: e.At}
			if ev.ID == "" { // an event written before events carried their id
				ev.ID = readstore.DocEventID(s.source, doc.ID, i)
			}
			if len(e.Detail) > 0 {
				js, err := bson.MarshalExtJSON(e.Detail, false, false)
				if err != nil {
					return b, nil, false, fmt.Errorf("%s: %s event %d: %w", s.source, doc.ID, i, err)
				}
				ev.Detail = js
			}
			b.Events = append(b.Events, ev)
		}
	}
	done := func(ctx context.Context) error {
		if _, err := s.outbox.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return fmt.Errorf("%s: clear outbox: %w", s.source, err)
		}
		return nil
	}
	return b, done, len(entries) == limit, nil
}

func (s *docSource) backlog(ctx context.Context, _ *readstore.Store) (readstore.SourceLag, error) {
	l := readstore.SourceLag{Source: s.source, Measured: time.Now()}
	n, err := s.outbox.CountDocuments(ctx, s.mine())
	if err != nil {
		return l, fmt.Errorf("%s: count outbox: %w", s.source, err)
	}
	l.Events = int(n)
	if n == 0 {
		return l, nil
	}
	var first mongostore.OutboxEntry
	err = s.outbox.FindOne(ctx, s.mine(), options.FindOne().SetSort(bson.D{{Key: "at", Value: 1}})).Decode(&first)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return l, fmt.Errorf("%s: read outbox: %w", s.source, err)
	}
	l.Oldest = first.At
	return l, nil
}
