// Package netdelay is a TCP proxy that delays what passes through it by a
// fixed time in each direction, so that a server on loopback answers as if
// it were a network round trip away. The benchmark puts its links to the
// servers behind it (bench --link-latency) to measure what locks held
// across round trips cost.
//
// Every chunk read from one side is written to the other side half a round
// trip after it was read, in order; bandwidth is not limited. A side that
// closes its half of the connection is passed on after the data before it.
package netdelay

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Proxy forwards the connections it accepts on 127.0.0.1 to one target.
type Proxy struct {
	ln     net.Listener
	target string
	oneWay time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free loopback port and forwards every connection to
// target (host:port), adding rtt to every round trip. rtt must be positive.
func Start(target string, rtt time.Duration) (*Proxy, error) {
	if rtt <= 0 {
		return nil, fmt.Errorf("netdelay: round trip %s: want a positive duration", rtt)
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("netdelay: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("netdelay: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, oneWay: rtt / 2, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// track remembers c so Close can close it; false when the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(client) })
	}
}

// serve forwards one client connection to a new connection to the target.
// A target that cannot be reached closes the client's connection, as a
// refused connection would.
func (p *Proxy) serve(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.forget(client)
	server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.forget(server)
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(server, client) })
	wg.Go(func() { p.pipe(client, server) })
	wg.Wait()
}

// chunk is data read at one moment, due on the other side at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk half a round trip after it was read.
// When src ends, dst's write side is closed after the last chunk; when dst
// fails, both connections are closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	queue := make(chan chunk, 256)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{data: buf[:n], due: time.Now().Add(p.oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			dst.Close()
			src.Close()
			for range queue { // let the reader end
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite() //nolint:errcheck // the peer may be gone already
		return
	}
	dst.Close()
}
