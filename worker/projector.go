package main

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/projector"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// readSide is the worker's part of the read side: the read store (the
// cleanup asks it how far the projector has read) and, unless
// --projector=false, a projector that takes the lease when no other
// process holds it.
type readSide struct {
	store *readstore.Store
	stop  func()
}

// startReadSide opens the read store, migrated, and starts the projector
// when on.
func startReadSide(ctx context.Context, cfg config.Config, on bool, meter metric.Meter, log *zap.Logger) (*readSide, error) {
	if err := cfg.Require(config.EnvReportingURL); err != nil {
		return nil, err
	}
	if !on {
		pool, err := pgstore.OpenPool(ctx, "reporting", cfg.ReportingURL, 2)
		if err != nil {
			return nil, err
		}
		rs := readstore.New(pool)
		if err := rs.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
		log.Info("projector off (--projector=false): another process builds the read store")
		return &readSide{store: rs, stop: pool.Close}, nil
	}
	p, err := projector.Open(ctx, cfg, projector.Options{}, meter, log)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Run(runCtx); err != nil {
			log.Error("projector stopped", zap.Error(err))
		}
	})
	return &readSide{store: p.Store(), stop: func() {
		cancel()
		wg.Wait()
		p.Close()
	}}, nil
}
