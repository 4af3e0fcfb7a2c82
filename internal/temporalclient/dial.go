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

// Dial connects to the Temporal server in c, trying again until it answers
// or timeout has passed (a server that is restarting comes back within
// seconds).
func Dial(ctx context.Context, c config.Config, logger log.Logger, timeout time.Duration) (client.Client, error) {
	if err := c.Require(config.EnvTemporalAddress); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cl, err := client.DialContext(ctx, client.Options{
			HostPort:  c.TemporalAddress,
			Namespace: c.TemporalNamespace,
			Logger:    logger,
		})
		if err == nil {
			return cl, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s) within %s: %w; is the stack up (`make up`)?",
				c.TemporalAddress, c.TemporalNamespace, timeout, err)
		case <-time.After(redialPause):
		}
	}
}

// redialPause is the wait between two dial attempts.
const redialPause = 250 * time.Millisecond
