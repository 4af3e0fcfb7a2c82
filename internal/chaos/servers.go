package chaos

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Stack takes the local stack's servers away and brings them back, through
// the launcher (stack stop NAME, stack up), which keeps their data and
// their ports.
type Stack struct {
	// Bin is the built launcher (go build ./stack).
	Bin string
}

// Stop stops one server: "postgres", "ferretdb" or "temporal".
func (s Stack) Stop(ctx context.Context, server string) error {
	return s.run(ctx, "stop", server)
}

// Up starts whatever is not running and waits until it answers.
func (s Stack) Up(ctx context.Context) error { return s.run(ctx, "up") }

// StopWorker stops the stack's own worker (make worker, make demo), if it
// runs, and says whether it did: its projector would lead the read side in
// place of the run's workers, out of reach of the projector faults.
func (s Stack) StopWorker(ctx context.Context) (bool, error) {
	out, err := exec.CommandContext(ctx, s.Bin, "stop", "worker").CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("stack stop worker: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return !strings.Contains(string(out), "not running"), nil
}

// StartWorker starts the stack's own worker again.
func (s Stack) StartWorker(ctx context.Context) error { return s.run(ctx, "worker") }

func (s Stack) run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, s.Bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stack %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
