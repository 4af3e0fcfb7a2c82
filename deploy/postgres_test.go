package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// pgCluster is a throwaway PostgreSQL cluster made with the machine's server
// binaries, as the postgres image makes its own: superuser postgres, trust on
// the unix socket, passwords (SCRAM) over TCP, on a free loopback port.
type pgCluster struct {
	bin    string // the server binaries' folder
	dir    string // data and socket live below it
	port   int
	runAs  *syscall.Credential // the postgres user when the tests run as root
	socket string
}

// pgBinDir finds the newest /usr/lib/postgresql/<version>/bin, or skips the
// test (fails it under CI, where make test needs them anyway).
func pgBinDir(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	t.Skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster makes and starts a cluster, stopped and removed when the test
// ends. initdb refuses to run as root, so as root the server runs as the
// postgres user, which owns the cluster's folder.
func startCluster(t *testing.T) *pgCluster {
	t.Helper()
	c := &pgCluster{bin: pgBinDir(t), port: freePort(t)}
	dir, err := os.MkdirTemp("", "sagaflow-pginit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir, c.socket = dir, dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.runAs = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", c.data(), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
		"--encoding=UTF8", "--no-locale", "--no-sync")
	c.run(t, "pg_ctl", "-D", c.data(), "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", c.port, c.socket), "start")
	t.Cleanup(func() {
		cmd := c.command("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.dir
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	}
	return cmd
}

func (c *pgCluster) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := c.command(tool, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("%s: %v\n%s\n%s", tool, err, out, log)
	}
}

func (c *pgCluster) url(role, password, db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=10", role, password, c.port, db)
}

// TestPostgresInitScript runs deploy/postgres/init-databases.sh as the
// postgres image runs it at the first start (executed, with the image's
// variables, as the superuser over the unix socket) on a throwaway cluster,
// then checks what the worker relies on: each service's role (and the
// reporting role, of the read store) logs in to its own database over TCP
// with its password and can migrate the service's schema there (create
// tables, for reporting), and can connect to no other database.
func TestPostgresInitScript(t *testing.T) {
	c := startCluster(t)
	passwords := map[string]string{"inventory": "inv-Pw-1", "payments": "pay-Pw-2", "reporting": "rep-Pw-3"}
	script, err := filepath.Abs(filepath.Join("postgres", "init-databases.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Dir = c.dir
	cmd.Env = []string{
		"PATH=" + c.bin + ":/usr/bin:/bin",
		"POSTGRES_USER=postgres",
		"POSTGRES_DB=postgres",
		"PGHOST=" + c.socket,
		"PGPORT=" + strconv.Itoa(c.port),
		"INVENTORY_DB_PASSWORD=" + passwords["inventory"],
		"PAYMENTS_DB_PASSWORD=" + passwords["payments"],
		"REPORTING_DB_PASSWORD=" + passwords["reporting"],
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init-databases.sh: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for role, password := range passwords {
		for _, db := range []string{"inventory", "payments", "reporting", "postgres", "template1"} {
			conn, err := pgx.Connect(ctx, c.url(role, password, db))
			if db == role {
				if err != nil {
					t.Errorf("role %s cannot connect to its database: %v", role, err)
				} else {
					conn.Close(ctx)
				}
				continue
			}
			var pgErr *pgconn.PgError
			if err == nil {
				conn.Close(ctx)
				t.Errorf("role %s can connect to database %s; want only %s", role, db, role)
			} else if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("role %s connecting to %s: %v; want permission denied (42501)", role, db, err)
			}
		}
		if conn, err := pgx.Connect(ctx, c.url(role, "wrong", role)); err == nil {
			conn.Close(ctx)
			t.Errorf("role %s logs in with a wrong password", role)
		}
	}

	// The services migrate their schemas at start, as these roles; the
	// read store makes its tables in the reporting database as its role.
	for role, migrate := range map[string]func(context.Context, *pgxpool.Pool) error{
		"inventory": func(ctx context.Context, p *pgxpool.Pool) error { return inventory.New(p).Migrate(ctx) },
		"payments":  func(ctx context.Context, p *pgxpool.Pool) error { return payments.New(p).Migrate(ctx) },
		"reporting": func(ctx context.Context, p *pgxpool.Pool) error {
			_, err := p.Exec(ctx, "CREATE TABLE IF NOT EXISTS init_script_check (id bigint PRIMARY KEY); DROP TABLE init_script_check")
			return err
		},
	} {
		pool, err := pgxpool.New(ctx, c.url(role, passwords[role], role))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate(ctx, pool); err != nil {
			t.Errorf("%s: migrate as role %s: %v", role, role, err)
		}
		pool.Close()
	}
}
