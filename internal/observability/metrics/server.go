package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Path is where the endpoint serves the metrics.
const Path = "/metrics"

// Server is a running metrics endpoint.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves
// h at Path. A taken address is an error at once, saying how to move the
// endpoint (flag is the setting that names the address, for the message).
func Serve(addr, flag string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: cannot listen on %s (%w): another worker may hold it; "+
			"give this one another address (%s 127.0.0.1:0 picks a free port) or none (%s \"\")", addr, err, flag, flag)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the endpoint listens on (the port chosen, for :0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the endpoint's metrics URL.
func (s *Server) URL() string { return "http://" + s.Addr() + Path }

// Close stops the endpoint, letting a scrape in progress finish until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("stop metrics endpoint: %w", err)
	}
	return nil
}
