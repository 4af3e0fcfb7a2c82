package deploycheck

import (
	"context"
	"fmt"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
)

// RequiredKeys returns, among candidates (the variables a binary reads), the
// ones without which the worker and the starter cannot reach their servers:
// those that opening the stores and dialing Temporal report as missing from
// an empty configuration, before either tries to connect.
func RequiredKeys(ctx context.Context, candidates []string) ([]string, error) {
	_, storesErr := stores.Open(ctx, config.Config{}, stores.Options{})
	_, dialErr := temporalclient.Dial(ctx, config.Config{}, temporalclient.Options{})
	fromStores, fromDial := NamedKeys(storesErr, candidates), NamedKeys(dialErr, candidates)
	if len(fromStores) == 0 || len(fromDial) == 0 {
		return nil, fmt.Errorf("opening the stores and dialing Temporal with an empty configuration should name the missing variables among %v; they said %v and %v",
			candidates, storesErr, dialErr)
	}
	return append(fromStores, fromDial...), nil
}
