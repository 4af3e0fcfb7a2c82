package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/deploycheck"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// temporalCLI finds the Temporal CLI the local stack builds (or one on the
// PATH), or skips the test (fails it under CI, where make test builds it).
func temporalCLI(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join(root, ".tools", "bin", "temporal")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Temporal CLI in .tools/bin or on the PATH (make up builds it)")
	}
	t.Skip("no Temporal CLI in .tools/bin or on the PATH (make up builds it)")
	return ""
}

// TestTemporalSetupNamespaceScript runs deploy/temporal/setup-namespace.sh,
// with the environment docker-compose.yml gives the temporal-setup service,
// against the local stack's Temporal dev server (same server version, its
// visibility on SQL like the compose stack's) in a namespace of its own,
// twice, and checks that the namespace has every search attribute, each a
// Keyword. The namespace is deleted at the end.
func TestTemporalSetupNamespaceScript(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress)
	if cfg.TemporalTLS != "" || cfg.TemporalTLSCA != "" || cfg.TemporalTLSCert != "" || cfg.TemporalAPIKey != "" {
		t.Skip("the script speaks plaintext to Temporal, as in the compose network; this Temporal needs TLS or an API key")
	}
	cli := temporalCLI(t)
	setup, err := deploycheck.Compose(t, root).GetService("temporal-setup")
	if err != nil {
		t.Fatal(err)
	}
	composeEnv := deploycheck.Environment(setup)
	attrs := strings.Fields(composeEnv["SEARCH_ATTRIBUTES"])
	if len(attrs) == 0 {
		t.Fatal("temporal-setup sets no SEARCH_ATTRIBUTES")
	}
	namespace := testenv.ID("composetest")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the namespace is deleted: cleanups run last first
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.OperatorService().DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: namespace}); err != nil {
			t.Logf("delete namespace %s: %v", namespace, err)
		}
	})

	script, err := filepath.Abs(filepath.Join("temporal", "setup-namespace.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		cmd := exec.CommandContext(ctx, "/bin/sh", script)
		cmd.Env = []string{
			"PATH=" + filepath.Dir(cli) + ":/usr/bin:/bin",
			"HOME=" + t.TempDir(),
			"TEMPORAL_ADDRESS=" + cfg.TemporalAddress,
			"TEMPORAL_NAMESPACE=" + namespace,
			"NAMESPACE_RETENTION=" + composeEnv["NAMESPACE_RETENTION"],
			"SEARCH_ATTRIBUTES=" + composeEnv["SEARCH_ATTRIBUTES"],
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d of setup-namespace.sh: %v\n%s", run, err, out)
		}
	}

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range attrs {
		if got := resp.GetCustomAttributes()[name]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("namespace %s: search attribute %s is %v, want Keyword", namespace, name, got)
		}
	}
}

// TestDeployScripts checks that every shell script mounted by the compose
// file parses, and is executable (the postgres image sources an init script
// that is not, in its own shell).
func TestDeployScripts(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("*", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 3 {
		t.Fatalf("found %v; expected the PostgreSQL init script and Temporal's two setup scripts", scripts)
	}
	for _, s := range scripts {
		if out, err := exec.Command("/bin/sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
		if fi, err := os.Stat(s); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable (chmod +x)", s)
		}
	}
}
