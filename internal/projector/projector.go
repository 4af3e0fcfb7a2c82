// Package projector builds the read store (internal/readstore) from the
// four services' domain events. Any number of projectors may run (inside
// workers, or alone); one at a time holds the read store's lease and
// writes, the others wait to take over. A holder renews its lease every
// TTL/4; a standby tries to take it every RetryEvery, and can once it has
// expired, so a SIGKILLed leader is replaced within TTL + RetryEvery. A
// holder that was paused or cut off past its lease cannot write after the
// takeover: every write checks the lease in its own transaction
// (readstore.Lease).
package projector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/readstore"
)

// Options tune a Projector. Zero values take the defaults.
type Options struct {
	// Holder names this process in the lease (default host-pid-random).
	Holder string
	// TTL is the lease's length (default 5 s).
	TTL time.Duration
	// RetryEvery is how often a standby tries to take the lease (default 1 s).
	RetryEvery time.Duration
	// PollEvery is how often the leader looks for new events, unless its
	// last read filled a batch (default 200 ms): the events of that time
	// go in one read and one write per source.
	PollEvery time.Duration
	// BatchSize bounds the events of one write (default 500).
	BatchSize int
	// LagEvery is how often the leader measures its backlog (default 2 s).
	LagEvery time.Duration
}

func (o Options) withDefaults() Options {
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(3))
	}
	if o.TTL <= 0 {
		o.TTL = 5 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = time.Second
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 200 * time.Millisecond
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.LagEvery <= 0 {
		o.LagEvery = 2 * time.Second
	}
	return o
}

// Projector reads the sources and writes the read store while it holds the
// lease.
type Projector struct {
	store   *readstore.Store
	sources []Source
	opts    Options
	log     *zap.Logger
	metrics *instruments
	closers []func()
}

// Run projects until ctx ends: it waits for the lease, writes while it
// holds it, and waits again when it loses it. On a clean stop it gives the
// lease up so that a standby takes over at once.
func (p *Projector) Run(ctx context.Context) error {
	p.log.Info("projector standing by", zap.String("holder", p.opts.Holder), zap.Duration("ttl", p.opts.TTL))
	for {
		lease, ok, err := p.store.Acquire(ctx, readstore.LeaseName, p.opts.Holder, p.opts.TTL, p.opts.RetryEvery/2)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.log.Warn("projector: lease not taken", zap.Error(err))
		}
		if ok {
			p.log.Info("projector leading", zap.Int64("epoch", lease.Epoch))
			p.metrics.leading(true)
			err := p.lead(ctx, lease)
			p.metrics.leading(false)
			if ctx.Err() != nil {
				release, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if err := p.store.Release(release, lease); err != nil {
					p.log.Warn("projector: lease not released", zap.Error(err))
				}
				cancel()
				return nil
			}
			p.log.Warn("projector no longer leading", zap.Int64("epoch", lease.Epoch), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.opts.RetryEvery):
		}
	}
}

// lead writes while lease holds: it renews the lease in the background and
// reads every source in turn, and returns when the lease is lost (fenced,
// or not renewed in time) or ctx ends.
func (p *Projector) lead(ctx context.Context, lease readstore.Lease) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go p.renew(ctx, cancel, lease)
	for _, s := range p.sources {
		s.reset()
	}
	lastLag := time.Time{}
	for ctx.Err() == nil {
		more := false
		for _, s := range p.sources {
			full, err := p.step(ctx, lease, s)
			if errors.Is(err, readstore.ErrFenced) {
				p.metrics.fenced.Add(ctx, 1)
				return err
			}
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				p.log.Warn("projector: source not read", zap.String("source", s.name()), zap.Error(err))
				continue
			}
			more = more || full
		}
		if time.Since(lastLag) >= p.opts.LagEvery {
			lastLag = time.Now()
			if err := p.measure(ctx, lease); errors.Is(err, readstore.ErrFenced) {
				return err
			} else if err != nil && ctx.Err() == nil {
				p.log.Warn("projector: lag not measured", zap.Error(err))
			}
		}
		if !more { // a full batch: read on at once; otherwise gather PollEvery's events
			select {
			case <-ctx.Done():
			case <-time.After(p.opts.PollEvery):
			}
		}
	}
	return context.Cause(ctx)
}

// renew renews lease every TTL/4 and cancels the leader's context when it
// cannot: fenced, or its last renewal has run out.
func (p *Projector) renew(ctx context.Context, cancel context.CancelCauseFunc, lease readstore.Lease) {
	valid := time.Now().Add(p.opts.TTL)
	t := time.NewTicker(p.opts.TTL / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, rcancel := context.WithTimeout(ctx, p.opts.TTL/4)
		renewed, err := p.store.Renew(rctx, lease, p.opts.TTL)
		rcancel()
		switch {
		case errors.Is(err, readstore.ErrFenced):
			cancel(err)
			return
		case err != nil:
			if time.Now().After(valid) {
				cancel(fmt.Errorf("lease not renewed for %s: %w", p.opts.TTL, err))
				return
			}
		default:
			lease = renewed
			valid = time.Now().Add(p.opts.TTL)
		}
	}
}

// step reads one batch of s and writes it; full says the read hit the
// batch size, so more events may be waiting.
func (p *Projector) step(ctx context.Context, lease readstore.Lease, s Source) (full bool, err error) {
	b, done, full, err := s.read(ctx, p.store, p.opts.BatchSize)
	if err != nil || done == nil {
		return false, err
	}
	applied, err := p.store.Apply(ctx, lease, b)
	if err != nil {
		return false, err
	}
	now := time.Now()
	for _, e := range applied {
		p.metrics.observe(ctx, s.name(), now.Sub(e.OccurredAt))
	}
	p.metrics.applied(ctx, s.name(), len(applied))
	return full, done(ctx)
}

// measure records every source's backlog in the read store and the
// metrics.
func (p *Projector) measure(ctx context.Context, lease readstore.Lease) error {
	lags := make([]readstore.SourceLag, 0, len(p.sources))
	for _, s := range p.sources {
		l, err := s.backlog(ctx, p.store)
		if err != nil {
			return err
		}
		p.metrics.lag(ctx, l)
		lags = append(lags, l)
	}
	return p.store.RecordLag(ctx, lease, lags)
}
