// Package temporalclient dials the Temporal frontend for sagaflow's
// binaries: one place that knows how sagaflow connects, with the one
// logger and an error that says what to do when the server cannot be
// reached.
package temporalclient

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
)

// Options tune Dial beyond what the configuration says.
type Options struct {
	// Logger receives the SDK's logs.
	Logger log.Logger
	// Timeout bounds the wait for the server to answer.
	Timeout time.Duration
	// MetricsHandler, when set, receives the SDK's metrics.
	MetricsHandler client.MetricsHandler
	// Interceptors wrap every client call (tracing, say).
	Interceptors []interceptor.ClientInterceptor
	// DataConverter, when set, encodes payloads (encryption, say).
	DataConverter converter.DataConverter
	// FailureConverter, when set, converts errors to failures and back
	// (with encryption, one that encrypts failure messages too).
	FailureConverter converter.FailureConverter
}

// Dial connects to the Temporal server in c, trying again until it answers
// or opts.Timeout has passed (a server that is restarting comes back within
// seconds). TLS, mTLS and an API key are used as c says (see security);
// their files are read before the first attempt, and a refused handshake
// or refused credentials end the wait at once.
func Dial(ctx context.Context, c config.Config, opts Options) (client.Client, error) {
	if err := c.Require(config.EnvTemporalAddress); err != nil {
		return nil, err
	}
	conn, creds, err := security(c)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", c.TemporalAddress, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	for {
		cl, err := client.DialContext(ctx, client.Options{
			HostPort:       c.TemporalAddress,
			Namespace:      c.TemporalNamespace,
			Logger:         opts.Logger,
			MetricsHandler: opts.MetricsHandler,
			Interceptors:   opts.Interceptors,
			DataConverter:  opts.DataConverter,

			FailureConverter:  opts.FailureConverter,
			ConnectionOptions: conn,
			Credentials:       creds,
		})
		if err == nil {
			return cl, nil
		}
		if why := refusal(err); why != "" {
			return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %s: %w", c.TemporalAddress, c.TemporalNamespace, why, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s) within %s: %w; is the stack up (`make up`)?",
				c.TemporalAddress, c.TemporalNamespace, opts.Timeout, err)
		case <-time.After(redialPause):
		}
	}
}

// redialPause is the wait between two dial attempts.
const redialPause = 250 * time.Millisecond
