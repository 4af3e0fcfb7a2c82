package main

import (
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/deploycheck"
	"github.com/sagaflow/sagaflow/workflows"
)

// composeService is the worker's service in docker-compose.yml.
const composeService = "worker"

// envKeys returns the environment variables the worker reads, asked of a
// getenv that answers with env: main hands os.Getenv to config.Load and to
// command, and to nothing else (checked from the source).
func envKeys(t *testing.T, env map[string]string) []string {
	t.Helper()
	rec := deploycheck.ContainerRecorder(t, ".", []string{"command", "config.Load"}, env)
	cfg, err := config.Load(rec.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	command(cfg, rec.Getenv)
	return rec.Asked()
}

// TestComposeWorkerEnvironment checks that docker-compose.yml gives the
// worker only variables it reads, and every one it needs to reach its
// servers.
func TestComposeWorkerEnvironment(t *testing.T) {
	p := deploycheck.Compose(t, "..")
	set := deploycheck.CheckServiceEnv(t, p, composeService, func(env map[string]string) []string { return envKeys(t, env) })
	s, err := p.GetService(composeService)
	if err != nil {
		t.Fatal(err)
	}
	// The metrics endpoint listens beyond the container's loopback, on the
	// port compose publishes.
	if listen := set["SAGAFLOW_METRICS_LISTEN"]; listen != "" {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			t.Fatalf("SAGAFLOW_METRICS_LISTEN=%s: %v", listen, err)
		}
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			t.Errorf("SAGAFLOW_METRICS_LISTEN=%s: a loopback address inside a container cannot be reached from outside it", listen)
		}
		published := false
		for _, p := range s.Ports {
			published = published || strconv.Itoa(int(p.Target)) == port
		}
		if !published {
			t.Errorf("SAGAFLOW_METRICS_LISTEN=%s, but compose publishes no port %s of the worker", listen, port)
		}
	}
}

// TestComposeWorkerWaits checks that the worker starts only once every server
// it points at is healthy and the namespace setup it relies on has completed.
func TestComposeWorkerWaits(t *testing.T) {
	p := deploycheck.Compose(t, "..")
	problems, err := deploycheck.CheckServerDependencies(p, composeService)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range problems {
		t.Error(problem)
	}
	s, err := p.GetService(composeService)
	if err != nil {
		t.Fatal(err)
	}
	if s.Build == nil {
		t.Errorf("%s: no build section; the worker is built from the repository's Dockerfile", composeService)
	}
	// The one-shot that registers the search attributes the sagas set.
	setup := ""
	for name, dep := range s.DependsOn {
		other, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := other.Environment["SEARCH_ATTRIBUTES"]; ok {
			setup = name
			if dep.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s depends on %s with %q, want %s", composeService, name, dep.Condition, types.ServiceConditionCompletedSuccessfully)
			}
		}
	}
	if setup == "" {
		t.Fatalf("%s depends on no service that sets SEARCH_ATTRIBUTES (the namespace setup)", composeService)
	}
	setupService, err := p.GetService(setup)
	if err != nil {
		t.Fatal(err)
	}
	setupEnv := deploycheck.Environment(setupService)
	// The script registers every name as a Keyword, the type of these keys.
	var want []string
	for _, key := range []temporal.SearchAttributeKeyKeyword{workflows.AttrOrderID, workflows.AttrCustomerID, workflows.AttrSagaStatus, workflows.AttrFailedStep} {
		want = append(want, key.GetName())
	}
	got := strings.Fields(setupEnv["SEARCH_ATTRIBUTES"])
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s registers the search attributes %v; the sagas set %v", setup, got, want)
	}
	if ns := deploycheck.Environment(s)[config.EnvTemporalNamespace]; setupEnv[config.EnvTemporalNamespace] != ns {
		t.Errorf("%s sets up namespace %q, the worker uses %q", setup, setupEnv[config.EnvTemporalNamespace], ns)
	}
}
