package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/config"
)

// serverArgs are the names `stop` takes, each with the server it names.
var serverArgs = []struct{ arg, name string }{
	{"temporal", nameTemporal},
	{"postgres", namePostgres},
	{"ferretdb", nameFerretDB},
	{"mongo", nameFerretDB},
	{"worker", nameWorker},
}

// validServerNames lists the names `stop` takes, for messages.
func validServerNames() string {
	return "temporal, postgres, ferretdb (alias mongo), worker"
}

// parseServer maps a server name given to `stop` to the server's name.
func parseServer(arg string) (string, error) {
	for _, a := range serverArgs {
		if a.arg == arg {
			return a.name, nil
		}
	}
	return "", fmt.Errorf("unknown server %q: valid names are %s", arg, validServerNames())
}

// serverTitle is how messages call the server name.
func serverTitle(name string) string {
	switch name {
	case nameTemporal:
		return "Temporal"
	case namePostgres:
		return "PostgreSQL"
	case nameFerretDB:
		return "FerretDB"
	case nameWorker:
		return "Worker"
	}
	return name
}

// stopCommand is `stop <server>`, which takes one server away.
func stopCommand(s settings, settingsErr error) *cobra.Command {
	var valid []string
	for _, a := range serverArgs {
		valid = append(valid, a.arg)
	}
	return &cobra.Command{
		Use:       "stop temporal|postgres|ferretdb|mongo|worker",
		Short:     "Stop one server, keeping its data and its address (`up` restarts it), or the worker (`worker` restarts it)",
		ValidArgs: valid,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("stop takes one server: %s", validServerNames())
			}
			_, err := parseServer(args[0])
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if settingsErr != nil {
				return settingsErr
			}
			name, err := parseServer(args[0])
			if err != nil {
				return err
			}
			return launcher{s: s, out: cmd.OutOrStdout()}.stop(cmd.Context(), name)
		},
	}
}

// stop stops the one server name the way down does, removes its pid file
// and keeps its data, the stack file and every other process (the worker
// included). It remembers the server's ports, so that up restarts it on the
// address the stack file publishes.
func (la launcher) stop(ctx context.Context, name string) error {
	began := time.Now()
	title := serverTitle(name)
	if v := la.externalVar(name); v != "" {
		return fmt.Errorf("%s is the existing server %s names, not one of ours: nothing to stop", title, v)
	}
	if _, err := os.Stat(la.s.dataDir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(la.out, "%-11s not running\n", title)
		return nil
	}
	unlock, err := lockDir(la.s.dataDir, la.out)
	if err != nil {
		return err
	}
	defer unlock()

	var ports map[string]string
	if name != nameWorker { // the worker listens on no port of the stack's
		ports = la.recordedPorts(name)
		if err := writePortsFile(la.s.runDir(), name, ports); err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	stopped, errs := la.stopServer(ctx, name)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	if stopped == 0 {
		fmt.Fprintf(la.out, "%-11s not running\n", title)
		return nil
	}
	if name == nameWorker {
		fmt.Fprintf(la.out, "%-11s stopped in %s; `worker` (make worker) starts it again\n", title, time.Since(began).Round(10*time.Millisecond))
		return nil
	}
	fmt.Fprintf(la.out, "%-11s stopped in %s; data kept, `up` restarts it%s\n",
		title, time.Since(began).Round(10*time.Millisecond), onAddress(name, ports))
	return nil
}

// stopServer stops the server name as down does; it returns how many
// processes it stopped.
func (la launcher) stopServer(ctx context.Context, name string) (int, []error) {
	if name == namePostgres {
		return la.stopPostgres(ctx)
	}
	for _, p := range la.detachedProcs() {
		if p.name == name {
			return la.stopProcs(p)
		}
	}
	return 0, []error{fmt.Errorf("no server %q", name)}
}

// externalVar names the variable by which an existing server replaces our
// server name, or is empty when the server is ours.
func (la launcher) externalVar(name string) string {
	s := la.s
	switch {
	case name == nameTemporal && s.extTemporalAddress != "":
		return config.EnvTemporalAddress
	case name == namePostgres && s.externalPostgres():
		return pgExternalVars()
	case name == nameFerretDB && s.extMongoURI != "":
		return config.EnvMongoURI
	}
	return ""
}

// portKeys are the keys of a run record that hold a server's ports.
func portKeys() []string { return []string{"port", "ui_port"} }

// recordedPorts returns the ports the pid file of name records (also when
// the process is gone), or nil.
func (la launcher) recordedPorts(name string) map[string]string {
	rec, err := readRunRecord(la.s.runDir(), name)
	if err != nil {
		return nil
	}
	return onlyPorts(rec.info)
}

// onlyPorts keeps the port entries of info; nil when there are none.
func onlyPorts(info map[string]string) map[string]string {
	var ports map[string]string
	for _, k := range portKeys() {
		if v := info[k]; v != "" {
			if ports == nil {
				ports = map[string]string{}
			}
			ports[k] = v
		}
	}
	return ports
}

// onAddress says where up restarts the server name, for messages.
func onAddress(name string, ports map[string]string) string {
	port := infoPort(ports, "port", 0)
	switch {
	case port == 0:
		return ""
	case name == nameFerretDB:
		return " on " + mongoURI(port)
	case name == nameTemporal && infoPort(ports, "ui_port", 0) > 0:
		return fmt.Sprintf(" on %s (Web UI %s)", temporalAddress(port), temporalUIURL(infoPort(ports, "ui_port", 0)))
	}
	return " on " + listenAddr(port)
}

// portsFilePath is where stop keeps the ports of a server it stopped, once
// its pid file is gone.
func portsFilePath(runDir, name string) string { return filepath.Join(runDir, name+".ports") }

// writePortsFile keeps ports (key=value lines) for up; nothing when empty.
func writePortsFile(runDir, name string, ports map[string]string) error {
	if len(ports) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("# Ports of a server `stack stop` stopped; `stack up` restarts it on them, `stack down` forgets them.\n")
	for _, k := range slices.Sorted(maps.Keys(ports)) {
		fmt.Fprintf(&b, "%s=%s\n", k, ports[k])
	}
	if err := os.WriteFile(portsFilePath(runDir, name), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write ports file: %w", err)
	}
	return nil
}

// readPortsFile returns the ports stop kept for name, or nil.
func readPortsFile(runDir, name string) map[string]string {
	data, err := os.ReadFile(portsFilePath(runDir, name))
	if err != nil {
		return nil
	}
	return parsePortsFile(string(data))
}

// parsePortsFile reads key=value lines, skipping comments, and keeps the ports.
func parsePortsFile(data string) map[string]string {
	info := map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			info[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return onlyPorts(info)
}

// forgetPorts removes the ports file of name.
func forgetPorts(runDir, name string) error {
	if err := os.Remove(portsFilePath(runDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove ports file: %w", err)
	}
	return nil
}

// previousPorts returns the ports the server name had while the stack file
// still publishes its address: those of its pid file (a server that died
// keeps it), else those stop kept. Nil without a stack file (after down,
// or before the first up): the configured ports apply.
func (la launcher) previousPorts(name string) map[string]string {
	if !fileExists(la.s.stackFile()) {
		return nil
	}
	if ports := la.recordedPorts(name); ports != nil {
		return ports
	}
	return readPortsFile(la.s.runDir(), name)
}
