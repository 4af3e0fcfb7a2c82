package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/workflows"
)

// cli is what every subcommand shares: the configuration read in main and
// the output settings.
type cli struct {
	cfg config.Config
	// out receives the results; errOut the SDK's warnings and, under
	// --json, progress lines.
	out    io.Writer
	errOut io.Writer
	json   bool
	// interceptors wrap the Temporal client's calls (tracing), from main.
	interceptors []interceptor.ClientInterceptor
	// encryption is --encrypt and the keys (defaults from the environment,
	// read in main); dc is the dialed client's data converter (nil: the
	// default).
	encryption codec.Settings
	dc         converter.DataConverter
	// queuePrefix is --task-queue-prefix: sagas run on <prefix><region>
	// instead of orders-<region>, served by a worker run with the same
	// --task-queue-prefix.
	queuePrefix string
	// user is the OS user (USER, read in main), the default of --operator.
	user string
	// stores, when set, gives the stores seed and verify use instead of
	// opening those cfg names; the caller closes them.
	stores func(context.Context) (*stores.Stores, error)
	// readStore, when set, gives the read store verify checks instead of
	// the one cfg names, and a function that releases it.
	readStore func(context.Context) (*readstore.Store, func(), error)
}

// errBreach marks a command that ran and printed its result, but whose
// result is a failure: a breach of an invariant, or a saga that did not
// reach the outcome the command was after. It exits 1; an error wrapping it
// has its message printed, errBreach itself adds nothing to the report.
var errBreach = errors.New("breaches found")

// resultError is a failed result with its own message; it is errBreach.
type resultError struct{ msg string }

func (e resultError) Error() string        { return e.msg }
func (e resultError) Is(target error) bool { return target == errBreach }

// failedResult returns an error that exits 1 and prints its message.
func failedResult(format string, args ...any) error {
	return resultError{msg: fmt.Sprintf(format, args...)}
}

// run executes the command line args with the environment read in main,
// with interceptors on the Temporal client, and returns the exit status.
func run(ctx context.Context, env environment, interceptors []interceptor.ClientInterceptor, args []string) int {
	c := &cli{cfg: env.cfg, out: os.Stdout, errOut: os.Stderr, interceptors: interceptors, encryption: env.encryption, user: env.user}
	root := c.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errBreach):
		if err != errBreach {
			fmt.Fprintln(os.Stderr, "starter:", err)
		}
		return 1
	default:
		fmt.Fprintln(os.Stderr, "starter:", err)
		return 2
	}
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "sagaflow's client: place and follow orders, seed the demo data, check the stores",
		Long: `starter is sagaflow's command-line client. It places orders (each runs as an
OrderSaga on the region's task queue), follows, lists and cancels them, acts
on sagas that wait for an operator (retry, resolve), runs batches and the
demo, seeds the demo data and checks the stores' invariants. orders, order
and report read the read store only (views the projector builds from the
services' events), never Temporal nor the services' stores.

Addresses come from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, INVENTORY_DATABASE_URL,
PAYMENTS_DATABASE_URL, REPORTING_DATABASE_URL (PostgreSQL URL of the reporting
database, the read store) and MONGO_URI, or, for those not set, from the stack
file that "make up" writes (.data/stack.env). A worker must run for sagas to
make progress: go run ./worker. Connection security (TLS, mTLS, an API key):
TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME,
TEMPORAL_API_KEY, TEMPORAL_TLS (README, "Security").

Exit status: 0 on success, 1 when the command ran but its result is a
failure (a saga that did not complete, an invariant breach), 2 on an error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print JSON instead of text")
	root.PersistentFlags().BoolVar(&c.encryption.Enabled, "encrypt", c.encryption.Enabled,
		"encrypt payloads (inputs, results, memos, failures) like a worker run with --encrypt; both need the same keys [SAGAFLOW_ENCRYPT]")
	root.PersistentFlags().StringVar(&c.encryption.Keys.File, "codec-key-file", c.encryption.Keys.File,
		"key file for --encrypt; or the file's content in SAGAFLOW_CODEC_KEYS [SAGAFLOW_CODEC_KEY_FILE]")
	root.PersistentFlags().StringVar(&c.queuePrefix, "task-queue-prefix", "",
		"start sagas on the task queues <prefix><region> instead of orders-<region>, for a worker run with the same --task-queue-prefix")
	root.AddGroup(&cobra.Group{ID: "orders", Title: "Orders:"}, &cobra.Group{ID: "operate", Title: "Operating sagas:"},
		&cobra.Group{ID: "read", Title: "Reading the read store (reporting database):"},
		&cobra.Group{ID: "data", Title: "Demo data and checks:"})
	for _, cmd := range []*cobra.Command{c.placeCommand(), c.batchCommand(), c.statusCommand(), c.listCommand(), c.cancelCommand()} {
		cmd.GroupID = "orders"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.retryCommand(), c.resolveCommand()} {
		cmd.GroupID = "operate"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.ordersCommand(), c.orderCommand(), c.reportCommand()} {
		cmd.GroupID = "read"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.demoCommand(), c.seedCommand(), c.verifyCommand()} {
		cmd.GroupID = "data"
		root.AddCommand(cmd)
	}
	return root
}

// openStores connects to the four stores; the caller closes them.
func (c *cli) openStores(ctx context.Context) (*stores.Stores, error) {
	if c.stores != nil {
		return c.stores(ctx)
	}
	return stores.Open(ctx, c.cfg, stores.Options{})
}

// taskQueue is the task queue of a region's sagas (see --task-queue-prefix).
func (c *cli) taskQueue(region string) string {
	if c.queuePrefix != "" {
		return c.queuePrefix + region
	}
	return workflows.TaskQueue(region)
}

// taskQueues are the task queues of every region's sagas.
func (c *cli) taskQueues() []string {
	out := make([]string, len(workflows.Regions))
	for i, r := range workflows.Regions {
		out[i] = c.taskQueue(r)
	}
	return out
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
