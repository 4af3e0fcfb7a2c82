// Package deploycheck holds what the tests of the deployment files share:
// docker-compose.yml loaded with the compose-spec loader that docker compose
// itself uses, the servers a service's environment points at, and the
// environment variables a binary reads, taken from its own code.
package deploycheck

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sagaflow/sagaflow/config"
)

// ComposeFile is the compose file, at the repository root.
const ComposeFile = "docker-compose.yml"

// LoadCompose loads the compose file at path as `docker compose` would, with
// every profile enabled and an empty environment, so that each
// ${VAR:-default} takes its default and no variable of the machine running
// the tests leaks in.
func LoadCompose(ctx context.Context, path string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return nil, fmt.Errorf("compose options: %w", err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return p, nil
}

// Environment is the environment compose gives a service's container. A
// variable listed without a value, which compose would take from the
// environment of whoever runs it, is there with the value "".
func Environment(s types.ServiceConfig) map[string]string {
	env := make(map[string]string, len(s.Environment))
	for k, v := range s.Environment {
		env[k] = ""
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

// ServerHosts returns, for each variable of env that locates a server of
// sagaflow's (TEMPORAL_ADDRESS, the database URLs, MONGO_URI), the host
// names it points at. Variables with no value are left out; a value that does
// not parse is an error.
func ServerHosts(env map[string]string) (map[string][]string, error) {
	hosts := map[string][]string{}
	for k, v := range env {
		if v == "" {
			continue
		}
		switch k {
		case config.EnvTemporalAddress:
			host, _, ok := strings.Cut(v, ":")
			if !ok || host == "" {
				return nil, fmt.Errorf("%s=%q: want host:port", k, v)
			}
			hosts[k] = []string{host}
		case config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvReportingURL, config.EnvMongoURI:
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("%s: not a URL with a host", k)
			}
			// A MongoDB URI may list several hosts: h1:27017,h2:27017.
			for _, hp := range strings.Split(u.Host, ",") {
				host, _, _ := strings.Cut(hp, ":")
				hosts[k] = append(hosts[k], host)
			}
		}
	}
	return hosts, nil
}

// CheckServerDependencies returns a line for each server that service's
// environment points at and that it does not wait for: the host must be a
// service of p, with a healthcheck, that service depends on with the
// condition service_healthy.
func CheckServerDependencies(p *types.Project, service string) ([]string, error) {
	s, err := p.GetService(service)
	if err != nil {
		return nil, err
	}
	hosts, err := ServerHosts(Environment(s))
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", service, err)
	}
	var problems []string
	for _, key := range sortedKeys(hosts) {
		for _, host := range hosts[key] {
			server, err := p.GetService(host)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s points at %q, which is not a service of the compose file", service, key, host))
				continue
			}
			if server.HealthCheck == nil || server.HealthCheck.Disable || len(server.HealthCheck.Test) == 0 {
				problems = append(problems, fmt.Sprintf("%s: %s points at %s, which has no healthcheck", service, key, host))
			}
			if dep, ok := s.DependsOn[host]; !ok || dep.Condition != types.ServiceConditionHealthy {
				problems = append(problems, fmt.Sprintf("%s: %s points at %s, but %s does not depend on it with condition %s",
					service, key, host, service, types.ServiceConditionHealthy))
			}
		}
	}
	return problems, nil
}

// CheckEnv compares the variables compose sets for a service (set) with the
// ones its binary reads (read) and the ones it needs to reach its servers
// (required). It returns a line for each variable set that the binary never
// reads, and for each required variable that compose does not set to a value.
func CheckEnv(service string, set map[string]string, read, required []string) []string {
	reads := map[string]bool{}
	for _, k := range read {
		reads[k] = true
	}
	var problems []string
	for _, k := range sortedKeys(set) {
		if !reads[k] {
			problems = append(problems, fmt.Sprintf("%s: compose sets %s, which the binary never reads (it reads %s)",
				service, k, strings.Join(read, ", ")))
		}
	}
	for _, k := range required {
		if set[k] == "" {
			problems = append(problems, fmt.Sprintf("%s: the binary needs %s to reach its servers, and compose does not set it", service, k))
		}
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
