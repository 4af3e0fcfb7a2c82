package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Environment variables that move a local server to another port.
const (
	envTemporalPort   = "SAGAFLOW_TEMPORAL_PORT"
	envTemporalUIPort = "SAGAFLOW_TEMPORAL_UI_PORT"
	envPostgresPort   = "SAGAFLOW_POSTGRES_PORT"
	envMongoPort      = "SAGAFLOW_MONGO_PORT"
)

// listenHost is the only interface the local servers listen on.
const listenHost = "127.0.0.1"

// listenAddr is host:port of a local server on port.
func listenAddr(port int) string { return net.JoinHostPort(listenHost, strconv.Itoa(port)) }

// ports are the TCP ports of the local servers.
type ports struct {
	temporal   int
	temporalUI int
	postgres   int
	mongo      int
}

// portSpec describes one port: its number, what it is for and the variable
// that overrides it.
type portSpec struct {
	port    int
	purpose string
	envVar  string
}

func (p ports) temporalSpec() portSpec {
	return portSpec{p.temporal, "Temporal gRPC frontend", envTemporalPort}
}

func (p ports) temporalUISpec() portSpec {
	return portSpec{p.temporalUI, "Temporal Web UI", envTemporalUIPort}
}

func (p ports) postgresSpec() portSpec {
	return portSpec{p.postgres, "PostgreSQL", envPostgresPort}
}

func (p ports) mongoSpec() portSpec {
	return portSpec{p.mongo, "MongoDB protocol, FerretDB", envMongoPort}
}

// at returns s for port, the port a server actually takes.
func (s portSpec) at(port int) portSpec {
	s.port = port
	return s
}

// kept returns s for a server restarting on the port the stack file
// publishes, which no variable moves.
func (s portSpec) kept() portSpec {
	s.envVar = ""
	return s
}

// parsePorts reads the defaults and their overrides.
func parsePorts(getenv func(string) string) (ports, error) {
	var p ports
	var errs []error
	for _, f := range []struct {
		dst    *int
		envVar string
		def    int
	}{
		{&p.temporal, envTemporalPort, 7233},
		{&p.temporalUI, envTemporalUIPort, 8233},
		{&p.postgres, envPostgresPort, 5432},
		{&p.mongo, envMongoPort, 27017},
	} {
		*f.dst = f.def
		v := getenv(f.envVar)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q: want a port number from 1 to 65535", f.envVar, v))
			continue
		}
		*f.dst = n
	}
	if err := errors.Join(errs...); err != nil {
		return ports{}, err
	}
	seen := map[int]string{}
	for _, s := range []portSpec{p.temporalSpec(), p.temporalUISpec(), p.postgresSpec(), p.mongoSpec()} {
		if other, dup := seen[s.port]; dup {
			return ports{}, fmt.Errorf("port %d is set for both %s and %s: give %s another port", s.port, other, s.purpose, s.envVar)
		}
		seen[s.port] = s.purpose
	}
	return p, nil
}

// checkPortsFree returns one error line per port of specs that is taken.
func checkPortsFree(specs []portSpec) error {
	var errs []error
	for _, s := range specs {
		if err := checkPortFree(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkPortFree fails when something accepts connections on the port or it
// cannot be bound on the listen address.
func checkPortFree(s portSpec) error {
	addr := listenAddr(s.port)
	busy := false
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		busy = true
	} else if l, err := net.Listen("tcp", addr); err != nil {
		busy = true
	} else {
		l.Close()
	}
	if busy {
		return portInUseError(s)
	}
	return nil
}

// portInUseError is the one-line message for a taken port.
func portInUseError(s portSpec) error {
	fix := "or set " + s.envVar + " to a free port"
	if s.envVar == "" {
		fix = "or run `make down` first: the stack file publishes this port, so the server restarts on it"
	}
	return fmt.Errorf("port %d (%s) is already in use: stop what holds it (see `ss -ltnp 'sport = :%d'`), %s",
		s.port, s.purpose, s.port, fix)
}
