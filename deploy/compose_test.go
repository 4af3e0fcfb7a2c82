package deploy_test

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/deploycheck"
)

// oneShots are the services that run to completion: those another service
// waits for with service_completed_successfully, and those under a profile
// (tools run with docker compose run).
func oneShots(p *types.Project) map[string]bool {
	out := map[string]bool{}
	for name, s := range p.Services {
		if len(s.Profiles) > 0 {
			out[name] = true
		}
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				out[dep] = true
			}
		}
	}
	return out
}

// TestComposeImagesPinned checks that every service is built from the
// repository or runs an image pinned to a version.
func TestComposeImagesPinned(t *testing.T) {
	p := deploycheck.Compose(t, root)
	if len(p.Services) < 8 {
		t.Fatalf("%d services loaded (%v); expected Temporal, its database, the UI, PostgreSQL, MongoDB, the worker, the starter and the one-shots",
			len(p.Services), p.ServiceNames())
	}
	for name, s := range p.Services {
		if s.Build != nil {
			continue
		}
		if s.Image == "" {
			t.Errorf("%s: neither an image nor a build", name)
		} else if why := pinned(s.Image); why != "" {
			t.Errorf("%s: image %s: %s", name, s.Image, why)
		}
	}
}

// TestComposeServersHaveHealthchecks checks that every server (a service that
// keeps running, from an image) has a healthcheck, and that the one-shots are
// never restarted once they have succeeded.
func TestComposeServersHaveHealthchecks(t *testing.T) {
	p := deploycheck.Compose(t, root)
	once := oneShots(p)
	servers := 0
	for name, s := range p.Services {
		if once[name] {
			if s.Restart != types.RestartPolicyNo && !strings.HasPrefix(s.Restart, types.RestartPolicyOnFailure) {
				t.Errorf("%s runs once, but restart is %q: want no", name, s.Restart)
			}
			continue
		}
		if s.Build != nil {
			continue // our worker: its metrics endpoint is its sign of life
		}
		servers++
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: a server without a healthcheck", name)
		}
		if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
			t.Errorf("%s: a server with restart %q; want unless-stopped", name, s.Restart)
		}
	}
	if servers < 5 {
		t.Errorf("%d servers found; expected Temporal, its PostgreSQL, the Web UI, PostgreSQL and MongoDB", servers)
	}
}

// TestComposeStorage checks that the servers' data lives on named volumes
// and that every file mounted from the repository exists and is mounted
// read-only.
func TestComposeStorage(t *testing.T) {
	p := deploycheck.Compose(t, root)
	dataDirs := map[string]string{
		"/var/lib/postgresql/data": "PostgreSQL",
		"/data/db":                 "MongoDB",
	}
	seen := map[string]int{}
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %s is not declared at the top level", name, v.Source)
				}
				seen[v.Target]++
			case types.VolumeTypeBind:
				rel, err := filepath.Rel(p.WorkingDir, v.Source)
				if err != nil || !strings.HasPrefix(rel, "deploy"+string(filepath.Separator)) {
					t.Errorf("%s: bind mount of %s: mount only files from deploy/", name, v.Source)
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s: bind mount: %v", name, err)
				}
				if !v.ReadOnly {
					t.Errorf("%s: bind mount of %s is writable; add :ro", name, rel)
				}
			default:
				t.Errorf("%s: a %s mount at %s", name, v.Type, v.Target)
			}
		}
		if image := s.Image; strings.HasPrefix(image, "postgres:") || strings.HasPrefix(image, "mongo:") {
			has := false
			for _, v := range s.Volumes {
				_, isData := dataDirs[v.Target]
				has = has || isData && v.Type == types.VolumeTypeVolume
			}
			if !has {
				t.Errorf("%s: its data folder is not on a named volume", name)
			}
		}
	}
	if len(seen) == 0 {
		t.Error("no named volume mounted")
	}
}

// TestComposePortsOnLoopback checks that every published port binds the
// host's loopback only: the databases and Temporal have no TLS here, MongoDB
// no authentication.
func TestComposePortsOnLoopback(t *testing.T) {
	p := deploycheck.Compose(t, root)
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.Published != "" && port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s:%d is published on %q; want 127.0.0.1", name, port.Published, port.Target, port.HostIP)
			}
		}
	}
}

// TestComposeMongoReplicaSet checks that MongoDB runs as the replica set the
// worker's MONGO_URI names, and that its healthcheck initiates that set.
func TestComposeMongoReplicaSet(t *testing.T) {
	p := deploycheck.Compose(t, root)
	worker, err := p.GetService("worker")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(deploycheck.Environment(worker)[config.EnvMongoURI])
	if err != nil {
		t.Fatal(err)
	}
	set := u.Query().Get("replicaSet")
	if set == "" {
		t.Fatalf("worker: %s names no replicaSet", config.EnvMongoURI)
	}
	mongo, err := p.GetService(u.Hostname())
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(mongo.Command, "--replSet"); i < 0 || i+1 >= len(mongo.Command) || mongo.Command[i+1] != set {
		t.Errorf("%s: command %v does not start the replica set %s", u.Hostname(), mongo.Command, set)
	}
	if mongo.HealthCheck == nil || !strings.Contains(strings.Join(mongo.HealthCheck.Test, " "), "rs.initiate({_id: '"+set+"'") {
		t.Errorf("%s: the healthcheck does not initiate the replica set %s", u.Hostname(), set)
	}
}

// TestComposeDatabaseRoles checks that the worker and the starter log in to
// PostgreSQL (the services' databases and the reporting database) as the
// roles the init script creates, with the passwords the PostgreSQL service
// hands that script.
func TestComposeDatabaseRoles(t *testing.T) {
	p := deploycheck.Compose(t, root)
	script, err := os.ReadFile(filepath.Join(root, "deploy", "postgres", "init-databases.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{"worker", "starter"} {
		s, err := p.GetService(client)
		if err != nil {
			t.Fatal(err)
		}
		env := deploycheck.Environment(s)
		for _, key := range []string{config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvReportingURL} {
			u, err := url.Parse(env[key])
			if err != nil {
				t.Fatalf("%s: %s: %v", client, key, err)
			}
			role, db := u.User.Username(), strings.TrimPrefix(u.Path, "/")
			if role != db {
				t.Errorf("%s: %s logs in as %q to %q; the init script gives each database a role of its name", client, key, role, db)
			}
			server, err := p.GetService(u.Hostname())
			if err != nil {
				t.Fatal(err)
			}
			mounted := false
			for _, v := range server.Volumes {
				mounted = mounted || v.Type == types.VolumeTypeBind && strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d/") &&
					filepath.Base(v.Source) == "init-databases.sh"
			}
			if !mounted {
				t.Errorf("%s: deploy/postgres/init-databases.sh is not mounted in /docker-entrypoint-initdb.d", u.Hostname())
			}
			// CREATE ROLE <db> LOGIN PASSWORD :'<db>_password' and -v <db>_password="$VAR".
			if !regexp.MustCompile(`CREATE ROLE ` + db + ` LOGIN PASSWORD :'` + db + `_password'`).Match(script) {
				t.Errorf("init-databases.sh: no CREATE ROLE %s LOGIN PASSWORD :'%s_password'", db, db)
				continue
			}
			m := regexp.MustCompile(`-v ` + db + `_password="\$([A-Z_]+)"`).FindSubmatch(script)
			if m == nil {
				t.Errorf("init-databases.sh: no -v %s_password=\"$...\"", db)
				continue
			}
			password, _ := u.User.Password()
			if got := deploycheck.Environment(server)[string(m[1])]; got != password {
				t.Errorf("%s: %s has the password of %s, but %s creates the role with %s=%q", client, key, role, u.Hostname(), m[1], got)
			}
		}
	}
}
