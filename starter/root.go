package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/stores"
)

// cli is what every subcommand shares: the configuration read in main and
// the output settings.
type cli struct {
	cfg  config.Config
	out  io.Writer
	json bool
}

// errBreach marks a command that ran but found something wrong; it exits 1
// without repeating the report.
var errBreach = errors.New("breaches found")

// run executes the command line args and returns the exit status.
func run(ctx context.Context, cfg config.Config, args []string) int {
	c := &cli{cfg: cfg, out: os.Stdout}
	root := c.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errBreach):
		return 1
	default:
		fmt.Fprintln(os.Stderr, "starter:", err)
		return 2
	}
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "sagaflow's client: seed the demo data and check the stores' invariants",
		Long: `starter is sagaflow's command-line client.

Addresses come from TEMPORAL_ADDRESS, INVENTORY_DATABASE_URL,
PAYMENTS_DATABASE_URL and MONGO_URI, or, for those not set, from the stack
file that "make up" writes (.data/stack.env).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print JSON instead of text")
	root.AddCommand(c.seedCommand(), c.verifyCommand())
	return root
}

// openStores connects to the four stores; the caller closes them.
func (c *cli) openStores(ctx context.Context) (*stores.Stores, error) {
	return stores.Open(ctx, c.cfg, stores.Options{})
}

// print writes v as indented JSON with --json, or calls text otherwise.
func (c *cli) print(v any, text func(io.Writer)) error {
	if !c.json {
		text(c.out)
		return nil
	}
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
