package main

import (
	"path"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/deploycheck"
)

// composeService is the starter's service in docker-compose.yml.
const composeService = "starter"

// envKeys returns the environment variables the starter reads, asked of a
// getenv that answers with env: main hands os.Getenv to readEnv and to
// nothing else (checked from the source).
func envKeys(t *testing.T, env map[string]string) []string {
	t.Helper()
	rec := deploycheck.ContainerRecorder(t, ".", []string{"readEnv"}, env)
	if _, err := readEnv(rec.Getenv); err != nil {
		t.Fatal(err)
	}
	return rec.Asked()
}

// TestComposeStarterEnvironment checks that docker-compose.yml gives the
// starter only variables it reads, and every one it needs to reach the
// servers (seed and verify open the stores; demo, place and the others dial
// Temporal too).
func TestComposeStarterEnvironment(t *testing.T) {
	set := deploycheck.CheckServiceEnv(t, deploycheck.Compose(t, ".."), composeService,
		func(env map[string]string) []string { return envKeys(t, env) })
	// The demo prints Web UI links; they are for the browser on the host.
	if set[config.EnvTemporalUIURL] == "" {
		t.Errorf("%s: %s not set, so the demo prints no Web UI links", composeService, config.EnvTemporalUIURL)
	}
}

// TestComposeStarterIsATool checks that the starter is a one-off command:
// under a profile (so `docker compose up` leaves it alone), never restarted,
// running the starter binary of the same image as the worker, after the
// servers it points at are healthy.
func TestComposeStarterIsATool(t *testing.T) {
	p := deploycheck.Compose(t, "..")
	s, err := p.GetService(composeService)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Profiles, "tools") {
		t.Errorf("%s: profiles %v, want tools (docker compose --profile tools run --rm starter seed)", composeService, s.Profiles)
	}
	if s.Restart != "" && s.Restart != types.RestartPolicyNo {
		t.Errorf("%s: restart %q, want no", composeService, s.Restart)
	}
	worker, err := p.GetService("worker")
	if err != nil {
		t.Fatal(err)
	}
	if s.Build == nil || worker.Build == nil || s.Build.Dockerfile != worker.Build.Dockerfile || s.Image != worker.Image {
		t.Errorf("%s: want the worker's build and image (one Dockerfile builds both binaries)", composeService)
	}
	if len(s.Entrypoint) != 1 || path.Base(s.Entrypoint[0]) != "sagaflow-starter" {
		t.Errorf("%s: entrypoint %v, want the starter binary, /usr/local/bin/sagaflow-starter", composeService, s.Entrypoint)
	}
	problems, err := deploycheck.CheckServerDependencies(p, composeService)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range problems {
		t.Error(problem)
	}
}
