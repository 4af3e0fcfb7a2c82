// Command stack runs sagaflow's local stack: the Temporal dev server (with
// its Web UI), a private PostgreSQL cluster and FerretDB (the MongoDB wire
// protocol, keeping its data in that cluster's ferretdb database), as
// background processes with their data, logs and pid files in the data
// folder (.data at the repository root).
//
//	go run ./stack up      # start what is not running, wait until it answers
//	go run ./stack worker  # start the saga worker against it, wait until it polls
//	go run ./stack status  # what runs, and where; non-zero unless fully up
//	go run ./stack down    # stop the worker and what up started; keep the data
//	go run ./stack stop X  # stop one server (temporal, postgres, ferretdb/mongo); up restarts it
//	go run ./stack wipe    # delete the data (refused while up)
//	go run ./stack env     # the addresses as the saga engine's tests read them
//
// `up` writes the addresses to <data>/stack.env, which config.Load reads.
// `stop` takes one server away and keeps its data and the stack file; `up`
// then restarts just that server, on the port the stack file publishes.
// `worker` builds ./worker into .tools/bin and runs it in the background
// like the servers, so that the sagas the starter runs have a worker.
// TEMPORAL_ADDRESS, INVENTORY_DATABASE_URL with PAYMENTS_DATABASE_URL and
// REPORTING_DATABASE_URL (the three together), and MONGO_URI each replace a
// local server by an existing one (SAGAFLOW_FERRETDB_POSTGRESQL_URL gives
// our FerretDB an existing database);
// SAGAFLOW_{TEMPORAL,TEMPORAL_UI,POSTGRES,MONGO}_PORT move a local server.
// REPORTING_DATABASE_URL is the PostgreSQL URL of the reporting database (the
// read store): the local cluster has it beside inventory, payments and
// ferretdb, each database owned by a login role of its name that may connect
// to nothing else.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s, settingsErr := loadSettings(os.Getenv) // the only place the environment is read
	err := newRootCommand(s, settingsErr).ExecuteContext(ctx)
	stop()
	if err != nil {
		if !errors.Is(err, errNotFullyUp) {
			fmt.Fprintln(os.Stderr, "stack:", err)
		}
		os.Exit(1)
	}
}

// newRootCommand wires the subcommands to a launcher built from s.
func newRootCommand(s settings, settingsErr error) *cobra.Command {
	root := &cobra.Command{
		Use:           "stack",
		Short:         "Run sagaflow's local stack: Temporal, PostgreSQL, FerretDB, and the saga worker",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	sub := func(use, short string, run func(launcher, context.Context) error) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if settingsErr != nil {
					return settingsErr
				}
				return run(launcher{s: s, out: cmd.OutOrStdout()}, cmd.Context())
			},
		}
	}
	root.AddCommand(
		sub("up", "Start the servers that are not running and wait until they answer", launcher.up),
		sub("worker", "Start the saga worker against the running stack and wait until it polls", launcher.worker),
		sub("down", "Stop the worker and the servers up started; keep the data", launcher.down),
		sub("wipe", "Delete the data folder (refused while the stack or the worker runs)", launcher.wipe),
		sub("status", "Show what runs and where; exit non-zero unless the servers are up", launcher.status),
		stopCommand(s, settingsErr),
		envCommand(),
	)
	return root
}
