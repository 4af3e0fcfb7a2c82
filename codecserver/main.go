// Command codecserver serves sagaflow's payload encryption to the Temporal
// Web UI and CLI (a codec server: POST /{namespace}/decode and /encode), so
// that people allowed to reach it can read encrypted sagas; and generates
// and rotates key files (codecserver genkey).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := command(os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "codecserver:", err)
		os.Exit(1)
	}
}
