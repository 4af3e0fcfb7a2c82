// Package temporalclient dials the Temporal frontend for sagaflow's
// binaries, with the one logger and an error that says what to do when the
// server cannot be reached.
package temporalclient

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
)

// Dial connects to the Temporal server in c and checks that it answers
// within timeout.
func Dial(ctx context.Context, c config.Config, logger log.Logger, timeout time.Duration) (client.Client, error) {
	if err := c.Require(config.EnvTemporalAddress); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := client.DialContext(ctx, client.Options{
		HostPort:  c.TemporalAddress,
		Namespace: c.TemporalNamespace,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w; is the stack up (`make up`)?",
			c.TemporalAddress, c.TemporalNamespace, err)
	}
	return cl, nil
}
