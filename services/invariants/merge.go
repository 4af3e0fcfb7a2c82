package invariants

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// streamBatch is how many reservations or payments travel from their
// reader to the merge at a time.
const streamBatch = 512

// mergePostgres reads the reservations and the payments at once, each in
// saga id order, and calls visit once per saga id either holds, in saga
// id order, with its reservation and payment (nil when there is none). It
// returns the two audits without their reservations and payments.
func mergePostgres(ctx context.Context, st Stores, visit func(sagaID string, res *inventory.Reservation, p *payments.Payment) error) (inventory.Audit, payments.Audit, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var inv inventory.Audit
	var pay payments.Audit
	var invErr, payErr error
	resCh := make(chan []inventory.Reservation, 2)
	payCh := make(chan []payments.Payment, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(resCh)
		s := sender[inventory.Reservation]{ctx: ctx, ch: resCh}
		inv, invErr = st.Inventory.AuditEach(ctx, s.send)
		invErr = errors.Join(invErr, s.flush(invErr))
	})
	wg.Go(func() {
		defer close(payCh)
		s := sender[payments.Payment]{ctx: ctx, ch: payCh}
		pay, payErr = st.Payments.AuditEach(ctx, s.send)
		payErr = errors.Join(payErr, s.flush(payErr))
	})
	mergeErr := merge(newReceiver(resCh, "reservations", func(r inventory.Reservation) string { return r.SagaID }),
		newReceiver(payCh, "payments", func(p payments.Payment) string { return p.SagaID }), visit)
	if mergeErr != nil {
		cancel() // the readers stop at their next send
	}
	for range resCh { // let a reader blocked on a send finish
	}
	for range payCh {
	}
	wg.Wait()
	if mergeErr != nil {
		return inventory.Audit{}, payments.Audit{}, mergeErr
	}
	if err := errors.Join(invErr, payErr); err != nil {
		return inventory.Audit{}, payments.Audit{}, err
	}
	return inv, pay, nil
}

// merge walks both streams in saga id order.
func merge(res *receiver[inventory.Reservation], pay *receiver[payments.Payment],
	visit func(string, *inventory.Reservation, *payments.Payment) error) error {
	r, p := res.next(), pay.next()
	for r != nil || p != nil {
		var err error
		switch {
		case p == nil || (r != nil && r.SagaID < p.SagaID):
			err = visit(r.SagaID, r, nil)
			r = res.next()
		case r == nil || p.SagaID < r.SagaID:
			err = visit(p.SagaID, nil, p)
			p = pay.next()
		default:
			err = visit(r.SagaID, r, p)
			r, p = res.next(), pay.next()
		}
		if err != nil {
			return err
		}
	}
	return errors.Join(res.err, pay.err)
}

// sender batches a reader's records onto a channel.
type sender[T any] struct {
	ctx   context.Context
	ch    chan<- []T
	batch []T
}

func (s *sender[T]) send(v T) error {
	s.batch = append(s.batch, v)
	if len(s.batch) < streamBatch {
		return nil
	}
	return s.flush(nil)
}

// flush sends what is left, unless the read failed.
func (s *sender[T]) flush(readErr error) error {
	if readErr != nil || len(s.batch) == 0 {
		return nil
	}
	select {
	case s.ch <- s.batch:
		s.batch = make([]T, 0, streamBatch)
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// receiver yields a stream's records one at a time and checks that they
// come in strictly increasing saga id order, which the merge relies on.
type receiver[T any] struct {
	ch    <-chan []T
	what  string
	key   func(T) string
	batch []T
	last  string
	err   error
}

func newReceiver[T any](ch <-chan []T, what string, key func(T) string) *receiver[T] {
	return &receiver[T]{ch: ch, what: what, key: key}
}

// next returns the next record, or nil at the end of the stream or when
// the stream is out of order (err says so).
func (r *receiver[T]) next() *T {
	if r.err != nil {
		return nil
	}
	for len(r.batch) == 0 {
		b, ok := <-r.ch
		if !ok {
			return nil
		}
		r.batch = b
	}
	v := &r.batch[0]
	r.batch = r.batch[1:]
	k := r.key(*v)
	if r.last != "" && k <= r.last {
		r.err = fmt.Errorf("check the invariants: %s not in saga id order: %q after %q", r.what, k, r.last)
		return nil
	}
	r.last = k
	return v
}
