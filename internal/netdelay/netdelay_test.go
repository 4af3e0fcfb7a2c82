package netdelay

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
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
				io.Copy(c, c) //nolint:errcheck // echo until the client closes
			}()
		}
	}()
	return ln.Addr().String()
}

// proxied starts a proxy with rtt in front of a new echo server and dials
// it; both end with the test.
func proxied(t *testing.T, rtt time.Duration) (*Proxy, net.Conn) {
	t.Helper()
	p, err := Start(echoServer(t), rtt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return p, c
}

func TestRoundTripsTakeAtLeastTheLatencyAndKeepTheBytes(t *testing.T) {
	const rtt = 20 * time.Millisecond
	_, c := proxied(t, rtt)
	r := bufio.NewReader(c)
	for i, line := range []string{"first\n", strings.Repeat("x", 100_000) + "\n", "third\n"} {
		start := time.Now()
		if _, err := io.WriteString(c, line); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < rtt {
			t.Errorf("round trip %d took %s, want at least %s", i, took, rtt)
		}
		if got != line {
			t.Fatalf("round trip %d: got %d bytes, want %d", i, len(got), len(line))
		}
	}
}

func TestAHalfCloseReachesTheServerAfterTheData(t *testing.T) {
	_, c := proxied(t, 10*time.Millisecond)
	want := bytes.Repeat([]byte("abc"), 50_000)
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c) // the echo server closes after our half-close
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes back, want %d", len(got), len(want))
	}
}

func TestCloseEndsOpenConnections(t *testing.T) {
	p, c := proxied(t, 2*time.Millisecond)
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // best effort bound
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after Close succeeded: want the connection closed")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("dial after Close succeeded: want the listener closed")
	}
}

func TestStartRefusesBadArguments(t *testing.T) {
	if _, err := Start("127.0.0.1:1", 0); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("zero latency: %v", err)
	}
	if _, err := Start("no-port", time.Millisecond); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Errorf("bad target: %v", err)
	}
}
