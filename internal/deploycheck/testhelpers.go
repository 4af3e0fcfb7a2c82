package deploycheck

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sagaflow/sagaflow/config"
)

// Compose loads the docker-compose.yml of the repository at root for a
// test, failing it when the file does not load.
func Compose(tb testing.TB, root string) *types.Project {
	tb.Helper()
	p, err := LoadCompose(context.Background(), filepath.Join(root, ComposeFile))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// ContainerRecorder is a Recorder over env as a binary sees it in its
// container (a data folder without a stack file), for a test that asks the
// functions main hands os.Getenv to what they read. It first fails tb
// unless main in dir hands os.Getenv to exactly callees, so a reader the
// test does not call cannot slip by.
func ContainerRecorder(tb testing.TB, dir string, callees []string, env map[string]string) *Recorder {
	tb.Helper()
	got, err := GetenvCallees(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if !reflect.DeepEqual(got, callees) {
		tb.Fatalf("main hands os.Getenv to %v; this test records what %v read: make it record the others too", got, callees)
	}
	values := map[string]string{config.EnvDataDir: tb.TempDir()} // no stack file, as in the container
	for k, v := range env {
		values[k] = v
	}
	return NewRecorder(values)
}

// CheckServiceEnv fails tb for every problem CheckEnv finds with the
// environment docker-compose.yml (p) gives service, where read returns what
// the service's binary reads when given an environment. It returns that
// environment, for the test's own checks.
func CheckServiceEnv(tb testing.TB, p *types.Project, service string, read func(env map[string]string) []string) map[string]string {
	tb.Helper()
	s, err := p.GetService(service)
	if err != nil {
		tb.Fatal(err)
	}
	set := Environment(s)
	keys := read(set)
	required, err := RequiredKeys(context.Background(), keys)
	if err != nil {
		tb.Fatal(err)
	}
	for _, problem := range CheckEnv(service, set, keys, required) {
		tb.Error(problem)
	}
	return set
}
