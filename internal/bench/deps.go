package bench

import (
	"context"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// Dial connects to the servers cfg names: Temporal (its client logs
// nothing) and MongoDB. The returned function closes both.
func Dial(ctx context.Context, cfg config.Config) (Deps, func(), error) {
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tc, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Logger: quiet, Timeout: 15 * time.Second})
	if err != nil {
		return Deps{}, nil, err
	}
	mc, err := mongostore.Connect(cfg.MongoURI)
	if err != nil {
		tc.Close()
		return Deps{}, nil, err
	}
	closeAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		mc.Disconnect(ctx) //nolint:errcheck // closing
		tc.Close()
	}
	return Deps{Config: cfg, Temporal: tc, Mongo: mc}, closeAll, nil
}
