package chaos_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/chaos"
)

// echo serves lines back on a loopback port until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads one back within wait.
func roundTrip(c net.Conn, r *bufio.Reader, line string, wait time.Duration) (string, error) {
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	got, err := r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// TestPartitionDropsAndHeals: through worker 0's PostgreSQL proxy a line
// comes back; once cut, a line vanishes and the connection stays open (a
// read times out, no EOF), as does a new connection, while worker 1's
// proxy still answers; healed, the connections that hung are closed and a
// new one carries lines again.
func TestPartitionDropsAndHeals(t *testing.T) {
	addr := echo(t)
	cfg := config.Config{
		InventoryURL: "postgres://inventory:pw@" + addr + "/inventory", PaymentsURL: "postgres://payments:pw@" + addr + "/payments",
		ReportingURL: "postgres://reporting:pw@" + addr + "/reporting", MongoURI: "mongodb://" + addr + "/", TemporalAddress: addr,
	}
	p, err := chaos.NewPartitions(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dial := func(worker int) (net.Conn, *bufio.Reader) {
		t.Helper()
		var target string
		for _, kv := range p.Env(worker) {
			if v, ok := strings.CutPrefix(kv, config.EnvInventoryURL+"="); ok {
				target = strings.SplitN(strings.SplitN(v, "@", 2)[1], "/", 2)[0]
			}
		}
		c, err := net.Dial("tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	c0, r0 := dial(0)
	if got, err := roundTrip(c0, r0, "before", time.Second); err != nil || got != "before" {
		t.Fatalf("before the cut: %q, %v", got, err)
	}
	if err := p.Cut(0, chaos.ServerPostgres); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c0, r0, "during", 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("during the cut: %q, %v; want a read that times out", got, err)
	}
	hung, hungReader := dial(0)
	if got, err := roundTrip(hung, hungReader, "new", 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a new connection during the cut: %q, %v; want a read that times out", got, err)
	}
	c1, r1 := dial(1)
	if got, err := roundTrip(c1, r1, "other", time.Second); err != nil || got != "other" {
		t.Fatalf("worker 1 during worker 0's cut: %q, %v", got, err)
	}
	if err := p.Heal(0, chaos.ServerPostgres); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c0, r0, "after", 2*time.Second); err == nil {
		t.Fatalf("after the heal, the connection that hung answered %q; want it closed", got)
	}
	c2, r2 := dial(0)
	if got, err := roundTrip(c2, r2, "after", 2*time.Second); err != nil || got != "after" {
		t.Fatalf("after the heal, on a new connection: %q, %v", got, err)
	}
	for _, kv := range p.Env(0) {
		if strings.Contains(kv, addr) {
			t.Errorf("worker 0 reaches the server directly: %s", kv)
		}
	}
}
