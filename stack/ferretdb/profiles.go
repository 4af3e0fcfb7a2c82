package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// serveProfiles serves Go's profiles (/debug/pprof/) on addr, a loopback
// address, in the background, and returns the address it listens on; an
// empty addr serves nothing. FerretDB's own CPU is what bounds the stack's
// MongoDB reads, and a profile is how to see where it goes:
// go tool pprof http://ADDR/debug/pprof/profile.
func serveProfiles(addr string) (net.Addr, error) {
	if addr == "" {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-debug-addr %q: want a loopback IP address (the profiles are not for the network)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "sagaflow-ferretdb: profiles on %s: %v\n", addr, err)
		}
	}()
	return ln.Addr(), nil
}
