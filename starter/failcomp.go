package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/workflows"
)

// stepRank orders the steps as the saga registers their compensations:
// ReserveStock and ChargePayment register theirs together.
var stepRank = map[string]int{
	workflows.StepCreateOrder:    1,
	workflows.StepReserveStock:   2,
	workflows.StepChargePayment:  2,
	workflows.StepCreateShipment: 3,
	workflows.StepConfirmOrder:   4,
}

// failCompensation checks --fail-compensation (a step or its compensation)
// against --fail-at and returns the step whose compensation fails and the
// step the saga fails at: ConfirmOrder when failAt is empty, so that every
// compensation runs.
func failCompensation(name, failAt string) (step, at string, err error) {
	step, err = workflows.StepOf(name)
	if err != nil {
		return "", "", fmt.Errorf("--fail-compensation: %w", err)
	}
	if workflows.Compensations[step] == "" {
		return "", "", fmt.Errorf("--fail-compensation %s: %s has no compensation; want one of %s",
			name, step, strings.Join(resolvableSteps(), ", "))
	}
	at = failAt
	if at == "" {
		at = workflows.StepConfirmOrder
	}
	if r, ok := stepRank[at]; ok && r < stepRank[step] {
		return "", "", fmt.Errorf("--fail-compensation %s with --fail-at %s: the saga fails before %s registers its compensation %s, which then never runs; fail at %s or later (without --fail-at: %s)",
			name, failAt, step, workflows.Compensations[step], step, workflows.StepConfirmOrder)
	}
	return step, at, nil
}

// starterCLI is how to run the starter here: "go run ./starter" in a
// checkout of the repository, else the name it was run by.
func starterCLI() string {
	if root, err := config.RepoRoot(); err == nil {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(root, wd); err == nil && rel == "." {
				return "go run ./starter"
			}
		}
	}
	return filepath.Base(os.Args[0])
}

// resolveCommand is the command that resolves the failing compensation of
// step in the saga of orderID.
func resolveCommand(orderID, step string) string {
	return fmt.Sprintf(`%s resolve %s --step %s --reason "what was done by hand"`, starterCLI(), orderID, workflows.Compensations[step])
}

// statusCommand is the command that shows the saga of orderID.
func statusCommand(orderID string) string {
	return fmt.Sprintf("%s status %s", starterCLI(), orderID)
}

// failingWait bounds place --wait's and the demo's wait for a saga to be
// COMPENSATION_FAILING: the forced failure and one round of compensation
// attempts take a few seconds.
const failingWait = 2 * time.Minute

// placeFailingCompensation reports a new saga placed with
// --fail-compensation. It never ends by itself, so place does not wait for
// its outcome: with wait it waits until the saga is COMPENSATION_FAILING.
// Either way it prints how to follow the saga and how to resolve it.
func (c *cli) placeFailingCompensation(ctx context.Context, tc client.Client, p placed, in workflows.OrderInput, wait bool) error {
	step := in.Demo.FailCompensation
	p.FailCompensation = step
	p.ResolveCommand = resolveCommand(p.OrderID, step)
	p.StatusCommand = statusCommand(p.OrderID)
	note := fmt.Sprintf("its compensation %s (of %s) fails at every attempt until an operator resolves it: the saga fails at %s, compensates, and stays %s, retried by the server; it does not end by itself",
		workflows.Compensations[step], step, in.Demo.FailAt, workflows.StatusCompensationFailing)
	if wait {
		if !c.json {
			writePlaced(c.out, p)
			fmt.Fprintln(c.out, note)
			fmt.Fprintf(c.out, "waiting until the saga is %s...\n", workflows.StatusCompensationFailing)
		}
		d, err := awaitSagaStatus(ctx, tc, p.OrderID, workflows.StatusCompensationFailing, failingWait)
		if err != nil {
			return err
		}
		p.Status, p.Failing = string(workflows.StatusCompensationFailing), failing(pendingActivities(d))
	}
	return c.print(p, func(w io.Writer) {
		if wait {
			fmt.Fprintf(w, "the saga of order %s is %s: %s\n", p.OrderID, p.Status, orDash(failingText(p.Failing, 100)))
		} else {
			writePlaced(w, p)
			fmt.Fprintln(w, note)
		}
		kv := newKV(w)
		kv.add("follow it", p.StatusCommand)
		kv.add("resolve it", p.ResolveCommand)
		kv.flush()
	})
}
