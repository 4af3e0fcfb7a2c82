package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/config"
)

const (
	// pgAdminRole is the cluster's superuser; it connects only over the
	// cluster's private unix socket (trust), never over TCP.
	pgAdminRole = "sagaflow_admin"
	// pgSystemUser runs initdb and the server when the launcher runs as root.
	pgSystemUser = "postgres"
	// pgFallbackRoot holds clusters whose data folder the postgres user
	// cannot reach (a clone under /root): /var/lib/sagaflow/<hash>/postgres.
	pgFallbackRoot = "/var/lib/sagaflow"
	// pgPasswordFile, inside the cluster folder, keeps the login roles' passwords.
	pgPasswordFile = "sagaflow-passwords"
	// pgConfFile, inside the cluster folder, holds the settings the launcher owns.
	pgConfFile = "sagaflow.conf"
	// maxSocketPath is the room in sockaddr_un.sun_path, less the NUL.
	maxSocketPath = 107
	// pgMaxConnections leaves room for FerretDB's pool beside the services'
	// pools of the workers, the tests and the benchmark (the default is
	// 100).
	pgMaxConnections = ferretDBPoolMaxConns + 200
)

// pgFerretDB is the database (and role) of the cluster that FerretDB owns.
const pgFerretDB = "ferretdb"

// pgReporting is the reporting database (and role): the read store, apart
// from the services' write stores.
const pgReporting = "reporting"

// pgServices are the databases the stack file publishes: the services'
// (inventory, payments) and the reporting database.
func pgServices() []string { return []string{"inventory", "payments", pgReporting} }

// pgDatabases are the databases of the local cluster, each owned by a login
// role of the same name that may connect to it and to nothing else: one per
// service, the reporting database, and FerretDB's.
func pgDatabases() []string { return append(pgServices(), pgFerretDB) }

// pgUser is the system user the PostgreSQL tools run as (nil: ourselves).
type pgUser struct {
	name     string
	uid, gid uint32
}

// pgLayout says where the cluster's pieces live.
type pgLayout struct {
	binDir     string
	clusterDir string
	socketDir  string
	logPath    string // given to pg_ctl -l
	logLink    string // <datadir>/logs/postgres.log, a link when logPath is elsewhere
	fallback   bool   // the cluster lives under pgFallbackRoot
	runAs      *pgUser
}

func (l pgLayout) identity() processIdentity {
	return processIdentity{exe: filepath.Join(l.binDir, "postgres"), marker: l.clusterDir}
}

// lookupPGUser returns the user to run PostgreSQL as: nobody else unless we are root.
func lookupPGUser(root bool) (*pgUser, error) {
	if !root {
		return nil, nil
	}
	u, err := user.Lookup(pgSystemUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the %q user, which is missing (apt-get install postgresql creates it): %w", pgSystemUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", pgSystemUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", pgSystemUser, u.Gid, err)
	}
	return &pgUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// pathHash is a short stable name for a data folder.
func pathHash(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return hex.EncodeToString(sum[:])[:12]
}

// pgFallbackBase is where the cluster of dataDir goes when the postgres
// user cannot reach dataDir.
func pgFallbackBase(dataDir string) string {
	return filepath.Join(pgFallbackRoot, pathHash(dataDir))
}

// socketDirFor keeps the socket in the cluster folder unless its path would
// not fit in a unix socket address.
func socketDirFor(clusterDir, dataDir string, port int) string {
	if len(filepath.Join(clusterDir, fmt.Sprintf(".s.PGSQL.%d", port))) <= maxSocketPath {
		return clusterDir
	}
	return filepath.Join(os.TempDir(), "sagaflow-pg-"+pathHash(dataDir))
}

// resolvePGLayout finds where the cluster lives: where one already exists,
// else in the data folder when the postgres user can reach it, else under
// pgFallbackRoot.
func resolvePGLayout(ctx context.Context, s settings, binDir string, port int) (pgLayout, error) {
	runAs, err := lookupPGUser(s.root)
	if err != nil {
		return pgLayout{}, err
	}
	l := pgLayout{
		binDir:     binDir,
		clusterDir: filepath.Join(s.dataDir, "postgres"),
		logPath:    s.logFile("postgres"),
		logLink:    s.logFile("postgres"),
		runAs:      runAs,
	}
	base := pgFallbackBase(s.dataDir)
	fallbackCluster := filepath.Join(base, "postgres")
	switch {
	case fileExists(filepath.Join(l.clusterDir, "PG_VERSION")):
	case fileExists(filepath.Join(fallbackCluster, "PG_VERSION")):
		l.fallback = true
	case runAs != nil && !canTraverse(ctx, runAs, s.dataDir):
		l.fallback = true
	}
	if l.fallback {
		l.clusterDir = fallbackCluster
		l.logPath = filepath.Join(base, "postgres.log")
	}
	l.socketDir = socketDirFor(l.clusterDir, s.dataDir, port)
	return l, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// canTraverse reports whether u can reach dir (search permission on it and
// every folder above it), asking the system as that user. A dir that does
// not exist yet is judged by its nearest existing parent.
func canTraverse(ctx context.Context, u *pgUser, dir string) bool {
	for !fileExists(dir) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
	}
	cmd := exec.CommandContext(ctx, "test", "-x", dir)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid}}
	return cmd.Run() == nil
}

// pgCommand runs one of the PostgreSQL tools, as the postgres user when needed.
func (l pgLayout) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(l.binDir, tool), args...)
	// On Ctrl-C, let initdb clean up and pg_ctl return rather than kill them.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if l.runAs != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: l.runAs.uid, Gid: l.runAs.gid}
		cmd.Env = append(os.Environ(), "HOME=/var/lib/postgresql", "USER="+l.runAs.name, "LOGNAME="+l.runAs.name)
	}
	return cmd
}

// ownedDir creates dir with mode perm, owned by the PostgreSQL user.
func (l pgLayout) ownedDir(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	if err := os.Chmod(dir, perm); err != nil {
		return err
	}
	return l.chown(dir)
}

func (l pgLayout) chown(path string) error {
	if l.runAs == nil {
		return nil
	}
	return os.Lchown(path, int(l.runAs.uid), int(l.runAs.gid))
}

// prepare creates the folders and the log file the PostgreSQL user writes.
func (l pgLayout) prepare() error {
	if l.fallback {
		if err := os.MkdirAll(filepath.Dir(l.clusterDir), 0o755); err != nil {
			return err
		}
	}
	if err := l.ownedDir(l.clusterDir, 0o700); err != nil {
		return err
	}
	if l.socketDir != l.clusterDir {
		if err := l.ownedDir(l.socketDir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(l.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if err := l.chown(l.logPath); err != nil {
		return err
	}
	if l.logLink != l.logPath {
		_ = os.Remove(l.logLink)
		if err := os.Symlink(l.logPath, l.logLink); err != nil {
			return err
		}
	}
	return nil
}

// includeLine is appended to postgresql.conf once initdb has succeeded; a
// cluster folder without it is an interrupted initialisation.
func includeLine() string { return "include_if_exists = '" + pgConfFile + "'" }

// initialized reports whether the cluster exists and its initialisation finished.
func (l pgLayout) initialized() bool {
	data, err := os.ReadFile(filepath.Join(l.clusterDir, "postgresql.conf"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == includeLine() {
			return true
		}
	}
	return false
}

// clearIncomplete empties a cluster folder left by an interrupted initdb
// (initdb wants an empty folder).
func (l pgLayout) clearIncomplete() (bool, error) {
	entries, err := os.ReadDir(l.clusterDir)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	if fileExists(filepath.Join(l.clusterDir, "postmaster.pid")) {
		return false, fmt.Errorf("%s has a postmaster.pid but no %s line in postgresql.conf: not a cluster of this launcher, or a server still runs", l.clusterDir, includeLine())
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(l.clusterDir, e.Name())); err != nil {
			return false, err
		}
	}
	return true, nil
}

// initCluster runs initdb: superuser pgAdminRole, trust on the unix socket
// (private to the PostgreSQL user), passwords (SCRAM) over TCP.
func (l pgLayout) initCluster(ctx context.Context) error {
	out, err := l.command(ctx, "initdb",
		"-D", l.clusterDir,
		"-U", pgAdminRole,
		"--auth-local=trust",
		"--auth-host=scram-sha-256",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync",
	).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, indent(string(out)))
	}
	conf := filepath.Join(l.clusterDir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "\n# Settings of the sagaflow launcher (go run ./stack up), rewritten on every start.\n%s\n", includeLine()); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

// writeConf writes the settings the launcher owns, some of which may change
// between starts (the port).
func (l pgLayout) writeConf(port int) error {
	quote := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
	body := fmt.Sprintf(`# Written by the sagaflow launcher on every start; edits are lost.
listen_addresses = '%s'
port = %d
unix_socket_directories = %s
unix_socket_permissions = 0700
max_connections = %d
`, listenHost, port, quote(l.socketDir), pgMaxConnections)
	path := filepath.Join(l.clusterDir, pgConfFile)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", pgConfFile, err)
	}
	return l.chown(path)
}

// start runs pg_ctl start and returns the postmaster's pid.
func (l pgLayout) start(ctx context.Context) (int, error) {
	out, err := l.command(ctx, "pg_ctl", "start", "-D", l.clusterDir, "-l", l.logPath, "-w", "-t", "60").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pg_ctl start: %w\n%s\n  last lines of %s:\n%s", err, indent(string(out)), l.logLink, tailFile(l.logPath, 15))
	}
	pm, ok := l.postmaster()
	if !ok {
		return 0, fmt.Errorf("pg_ctl start: no live postmaster for %s; see %s", l.clusterDir, l.logLink)
	}
	return pm.pid, nil
}

// postmasterInfo is what postmaster.pid says about a running cluster.
type postmasterInfo struct {
	pid       int
	port      int
	socketDir string
}

// parsePostmasterPID reads postmaster.pid: pid, data folder, start time,
// port, first socket folder, ...
func parsePostmasterPID(data []byte) (postmasterInfo, bool) {
	lines := strings.Split(string(data), "\n")
	if len(lines) < 5 {
		return postmasterInfo{}, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return postmasterInfo{}, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return postmasterInfo{}, false
	}
	return postmasterInfo{pid: pid, port: port, socketDir: strings.TrimSpace(lines[4])}, true
}

// postmaster returns what postmaster.pid says when its pid is our server.
func (l pgLayout) postmaster() (postmasterInfo, bool) {
	data, err := os.ReadFile(filepath.Join(l.clusterDir, "postmaster.pid"))
	if err != nil {
		return postmasterInfo{}, false
	}
	info, ok := parsePostmasterPID(data)
	if !ok || !isOurProcess(procRoot, info.pid, l.identity()) {
		return postmasterInfo{}, false
	}
	return info, true
}

// stop runs pg_ctl stop -m fast, then makes sure nothing of the cluster is left.
func (l pgLayout) stop(ctx context.Context, pid int) error {
	out, err := l.command(ctx, "pg_ctl", "stop", "-D", l.clusterDir, "-m", "fast", "-w", "-t", "30").CombinedOutput()
	if err != nil && isOurProcess(procRoot, pid, l.identity()) {
		if err := stopProcessGroup(procRoot, pid, 10*time.Second); err != nil {
			return fmt.Errorf("stop postgres: pg_ctl stop failed (%s) and %w", strings.TrimSpace(string(out)), err)
		}
	}
	if !waitUntil(func() bool { return len(groupMembers(procRoot, pid)) == 0 }, 10*time.Second) {
		return fmt.Errorf("stop postgres: processes of group %d still running", pid)
	}
	return nil
}

// loadOrCreatePasswords returns the login roles' passwords, creating and
// saving (0600, in the cluster folder) the ones that do not exist yet (a
// cluster made before FerretDB's role existed gets its password here).
func (l pgLayout) loadOrCreatePasswords() (map[string]string, error) {
	path := filepath.Join(l.clusterDir, pgPasswordFile)
	pw, err := config.ReadStackFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read passwords: %w", err)
	}
	if pw == nil {
		pw = map[string]string{}
	}
	changed := false
	for _, svc := range pgDatabases() {
		if pw[svc] == "" {
			b := make([]byte, 18)
			if _, err := rand.Read(b); err != nil {
				return nil, fmt.Errorf("generate password: %w", err)
			}
			pw[svc] = hex.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		var b strings.Builder
		b.WriteString("# Passwords of the login roles; reused on every `make up`.\n")
		for _, svc := range pgDatabases() {
			fmt.Fprintf(&b, "%s=%s\n", svc, pw[svc])
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			return nil, fmt.Errorf("save passwords: %w", err)
		}
	}
	return pw, nil
}

// pgServiceURL is the URL a role uses to reach its database over TCP.
func pgServiceURL(port int, role, password string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, password),
		Host:     listenAddr(port),
		Path:     "/" + role,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// adminConnect connects as the superuser over the cluster's unix socket to
// the database db.
func (l pgLayout) adminConnect(ctx context.Context, port int, db string) (*pgx.Conn, error) {
	q := func(v string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=5",
		q(l.socketDir), port, pgAdminRole, q(db)))
	if err != nil {
		return nil, fmt.Errorf("admin connection config: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect as %s over %s: %w", pgAdminRole, l.socketDir, err)
	}
	return conn, nil
}

// setup makes sure each of pgDatabases has its role (with its saved
// password) and exists, that only that role (and the admin) may connect
// to it, and that FerretDB's lookups by _id use an index. It is idempotent: a cluster made by an earlier version gets the
// roles and databases it lacks, and keeps its data.
func (l pgLayout) setup(ctx context.Context, port int, passwords map[string]string) error {
	if err := l.setupDatabases(ctx, port, passwords); err != nil {
		return err
	}
	return l.setupFerretDBIndexes(ctx, port)
}

// setupDatabases is the part of setup that makes the roles and databases
// and checks their isolation; it leaves FerretDB's indexes alone, so it may
// run while FerretDB does.
func (l pgLayout) setupDatabases(ctx context.Context, port int, passwords map[string]string) error {
	conn, err := l.adminConnect(ctx, port, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	for _, svc := range pgDatabases() {
		ident := pgx.Identifier{svc}.Sanitize()
		// The password is hex; no quoting issue, and DDL takes no parameters.
		pwLiteral := "'" + passwords[svc] + "'"
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", svc).Scan(&exists); err != nil {
			return fmt.Errorf("look up role %s: %w", svc, err)
		}
		stmt := "CREATE ROLE " + ident + " LOGIN PASSWORD " + pwLiteral
		if exists {
			stmt = "ALTER ROLE " + ident + " WITH LOGIN PASSWORD " + pwLiteral
		}
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("role %s: %w", svc, err)
		}
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", svc).Scan(&exists); err != nil {
			return fmt.Errorf("look up database %s: %w", svc, err)
		}
		if !exists {
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" OWNER "+ident); err != nil {
				return fmt.Errorf("create database %s: %w", svc, err)
			}
		}
		for _, stmt := range []string{
			"REVOKE ALL ON DATABASE " + ident + " FROM PUBLIC",
			"GRANT CONNECT, TEMPORARY ON DATABASE " + ident + " TO " + ident,
		} {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("database %s privileges: %w", svc, err)
			}
		}
	}
	for _, db := range []string{"postgres", "template1"} {
		if _, err := conn.Exec(ctx, "REVOKE CONNECT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" FROM PUBLIC"); err != nil {
			return fmt.Errorf("database %s privileges: %w", db, err)
		}
	}
	return checkIsolation(ctx, conn)
}

// missingDatabases returns, in pgDatabases order, the databases of
// pgDatabases that the running cluster lacks, or whose role it lacks: what
// a cluster made by an earlier version is without (the reporting database)
// until setup runs.
func (l pgLayout) missingDatabases(ctx context.Context, port int) ([]string, error) {
	conn, err := l.adminConnect(ctx, port, "postgres")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS w(n, i)
		WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n)
			OR NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = n)
		ORDER BY i`, pgDatabases())
	if err != nil {
		return nil, fmt.Errorf("look up the databases: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up the databases: %w", err)
	}
	return missing, nil
}

// connectPrivilege says whether role may connect to db.
type connectPrivilege struct {
	role, db string
	can      bool
}

// checkIsolation verifies that each role of pgDatabases may connect to its
// own database and to no other database of the cluster.
func checkIsolation(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT r.rolname, d.datname, has_database_privilege(r.oid, d.oid, 'CONNECT')
		FROM pg_roles r CROSS JOIN pg_database d
		WHERE r.rolname = ANY($1) AND d.datallowconn`, pgDatabases())
	if err != nil {
		return fmt.Errorf("check database isolation: %w", err)
	}
	privs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (connectPrivilege, error) {
		var p connectPrivilege
		err := row.Scan(&p.role, &p.db, &p.can)
		return p, err
	})
	if err != nil {
		return fmt.Errorf("check database isolation: %w", err)
	}
	if bad := isolationProblems(privs, pgDatabases()); len(bad) > 0 {
		return fmt.Errorf("databases are not isolated: %s", strings.Join(bad, "; "))
	}
	return nil
}

// isolationProblems lists what breaks isolation in privs: a role of roles
// that may connect to a database not its own, or that may not connect to
// its own, or whose database is missing.
func isolationProblems(privs []connectPrivilege, roles []string) []string {
	var bad []string
	own := map[string]bool{}
	for _, p := range privs {
		if p.role == p.db {
			own[p.role] = true
		}
		if p.can != (p.role == p.db) {
			bad = append(bad, fmt.Sprintf("%s on %s: CONNECT=%v", p.role, p.db, p.can))
		}
	}
	for _, r := range roles {
		if !own[r] {
			bad = append(bad, "no database "+r+" for role "+r)
		}
	}
	return bad
}

// checkPostgres connects with each URL of urls (by role), in role order.
func checkPostgres(ctx context.Context, urls map[string]string) error {
	for _, role := range slices.Sorted(maps.Keys(urls)) {
		conn, err := pgx.Connect(ctx, urls[role])
		if err != nil {
			return fmt.Errorf("connect as %s: %w", role, err)
		}
		var who string
		err = conn.QueryRow(ctx, "SELECT current_user").Scan(&who)
		conn.Close(context.Background())
		if err != nil {
			return fmt.Errorf("query as %s: %w", role, err)
		}
	}
	return nil
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
