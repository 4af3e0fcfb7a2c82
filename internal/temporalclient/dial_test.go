package temporalclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// A worker restarted while the Temporal server restarts must wait for it,
// not exit: Dial keeps trying until the server answers. (Found by the
// fault-injection run: a worker restarted during a Temporal restart died.)
func TestDialWaitsForAServerThatComesBack(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress)
	// Reserve a port, free it: nothing listens there until the "server" comes back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, target := l.Addr().String(), cfg.TemporalAddress
	l.Close()
	back := make(chan struct{})
	go func() {
		defer close(back)
		time.Sleep(time.Second) // the outage
		proxy, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		t.Cleanup(func() { proxy.Close() })
		go forward(proxy, target)
	}()
	cfg.TemporalAddress = addr
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := temporalclient.Dial(context.Background(), cfg, temporalclient.Options{Logger: quiet, Timeout: 30 * time.Second})
	<-back
	if err != nil {
		t.Fatalf("dial through an outage: %v", err)
	}
	c.Close()
}

func TestDialGivesUpWithAClearError(t *testing.T) {
	cfg := config.Config{TemporalAddress: "127.0.0.1:1", TemporalNamespace: "default"}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := temporalclient.Dial(context.Background(), cfg, temporalclient.Options{Logger: quiet, Timeout: time.Second})
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	for _, want := range []string{"cannot reach Temporal at 127.0.0.1:1", "make up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should say %q", err, want)
		}
	}
}

// forward copies every connection accepted by l to target and back.
func forward(l net.Listener, target string) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", target)
		if err != nil {
			in.Close()
			continue
		}
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}
