package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/config"
)

// The variables the saga engine's module (saga/) and examples/ read in
// their tests and examples: plain names, as a team using the engine would
// set them, rather than sagaflow's own.
const (
	envLibraryPostgres = "DATABASE_URL"
	envLibraryMongo    = "MONGO_URI"
)

// envCommand prints the running stack's addresses in the variables the
// saga engine's tests and examples read, one KEY=VALUE a line, for
// `env $(go run ./stack env) go test ./...` in saga/ and examples/.
func envCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print the stack's addresses as the saga engine's tests and examples read them (DATABASE_URL, MONGO_URI, TEMPORAL_ADDRESS)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := config.Load(os.Getenv)
			if err != nil {
				return err
			}
			return printLibraryEnv(cmd.OutOrStdout(), c)
		},
	}
}

// printLibraryEnv writes c's addresses as the engine's tests read them:
// PostgreSQL is the inventory database (its tests work in schemas of
// their own there).
func printLibraryEnv(w io.Writer, c config.Config) error {
	if err := c.Require(config.EnvInventoryURL, config.EnvMongoURI, config.EnvTemporalAddress); err != nil {
		return fmt.Errorf("the stack is not up (go run ./stack up): %w", err)
	}
	_, err := fmt.Fprintf(w, "%s=%s\n%s=%s\n%s=%s\n%s=%s\n",
		envLibraryPostgres, c.InventoryURL,
		envLibraryMongo, c.MongoURI,
		config.EnvTemporalAddress, c.TemporalAddress,
		config.EnvTemporalNamespace, c.TemporalNamespace)
	return err
}
