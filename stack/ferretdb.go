package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// mongoProbeDB is the scratch database the readiness check writes to and drops.
const mongoProbeDB = "sagaflow_stack_probe"

// envFerretDBPostgresURL names the variable through which the runner gets
// the URL (with its password) of the PostgreSQL database it stores its
// data in: a process's environment, unlike its command line, is private to
// its user. In the launcher's own environment it names an existing
// database for our FerretDB instead of the one of our cluster.
const envFerretDBPostgresURL = "SAGAFLOW_FERRETDB_POSTGRESQL_URL"

// ferretDBPoolMaxConns bounds FerretDB's PostgreSQL connections. FerretDB
// 1.24 needs two of them for an update, a delete or a findAndModify (it
// holds the query's while it waits for the write's), and stops answering
// when as many of those are in flight as it has connections; our clients
// keep at most mongostore.MaxPoolSize requests in flight each, so this
// pool outnumbers five of them.
const ferretDBPoolMaxConns = 5 * mongostore.MaxPoolSize

// ferretDBMetadataTable is the table FerretDB creates in the schema of each
// MongoDB database it holds.
const ferretDBMetadataTable = "_ferretdb_database_metadata"

// sqliteFerretDBDir is where FerretDB kept its data before it moved to
// PostgreSQL (the SQLite backend, one file per MongoDB database).
func sqliteFerretDBDir(s settings) string { return filepath.Join(s.dataDir, "ferretdb") }

// ferretDBIdentity recognises our FerretDB: our runner, started with our
// data folder in its environment (its command line names no path of ours).
func ferretDBIdentity(s settings) processIdentity {
	return processIdentity{exe: filepath.Join(s.toolsBin(), ferretDBBin), env: config.EnvDataDir + "=" + s.dataDir}
}

// sqliteFerretDBIdentity recognises a FerretDB on SQLite that an earlier
// version of the launcher started (-data-dir <data>/ferretdb), so that
// down, stop and wipe still find it.
func sqliteFerretDBIdentity(s settings) processIdentity {
	return processIdentity{exe: filepath.Join(s.toolsBin(), ferretDBBin), marker: sqliteFerretDBDir(s)}
}

// ferretDBIdentities are the ways a FerretDB of ours is recognised.
func ferretDBIdentities(s settings) []processIdentity {
	return []processIdentity{ferretDBIdentity(s), sqliteFerretDBIdentity(s)}
}

// mongoURI is the URI of a MongoDB protocol server on the listen address.
func mongoURI(port int) string {
	return "mongodb://" + listenAddr(port) + "/"
}

// ferretDBArgs is the runner's command line; it holds no password.
func ferretDBArgs(port int) []string {
	return []string{
		"-listen", listenAddr(port),
		// FerretDB logs every failed command (a duplicate key, the driver's
		// endSessions on disconnect) at warn, with the whole message.
		"-log-level", "error",
	}
}

// ferretDBGC are the Go runtime settings FerretDB runs with unless the
// launcher's environment sets them. FerretDB decodes and encodes every
// document it sends in Go, and its live heap is small, so the collector
// at Go's default (GOGC=100) ran often: a full read of a collection went
// from 16,500 documents/s to 26,000-27,000 with GOGC=400 (30,000 with
// 1000). GOMEMLIMIT bounds what the larger heap may grow to.
var ferretDBGC = []string{"GOGC=400", "GOMEMLIMIT=1GiB"}

// ferretDBEnv is the runner's environment: the launcher's, with the data
// folder (which identifies the process) and the backend's URL set, and
// ferretDBGC for the settings it does not set.
func ferretDBEnv(environ []string, dataDir, pgURL string) []string {
	env := make([]string, 0, len(environ)+3)
	for _, kv := range workerEnv(environ, dataDir) {
		if !strings.HasPrefix(kv, envFerretDBPostgresURL+"=") {
			env = append(env, kv)
		}
	}
	for _, gc := range ferretDBGC {
		name, _, _ := strings.Cut(gc, "=")
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }) {
			env = append(env, gc)
		}
	}
	return append(env, envFerretDBPostgresURL+"="+pgURL)
}

// withPoolMaxConns is the PostgreSQL URL raw with FerretDB's pool bounded
// to n connections, unless raw bounds it already.
func withPoolMaxConns(raw string, n int) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if q.Has("pool_max_conns") {
		return raw
	}
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// startFerretDB starts our FerretDB runner on the PostgreSQL database pgURL.
func startFerretDB(s settings, bin string, port int, pgURL string) (*detached, error) {
	d, err := startDetached(bin, ferretDBArgs(port), ferretDBEnv(os.Environ(), s.dataDir, pgURL), s.logFile("ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	return d, nil
}

// sqliteDataFiles lists the SQLite databases in dir, where FerretDB kept
// its data before; none when dir does not exist.
func sqliteDataFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".sqlite") {
			files = append(files, e.Name())
		}
	}
	return files, nil
}

// errSQLiteNotMigrated is the one-line refusal to start FerretDB on an empty
// PostgreSQL database while the documents of an earlier version's SQLite
// backend sit in dir.
func errSQLiteNotMigrated(dir string) error {
	return fmt.Errorf("FerretDB now keeps its documents in PostgreSQL (database %s), and those in %s (SQLite, from an earlier version) are not migrated: "+
		"run `make down && make wipe && make up` (the data is demo data)", pgFerretDB, dir)
}

// ferretDBBackendEmpty reports whether FerretDB holds no MongoDB database
// in the PostgreSQL database pgURL names.
func ferretDBBackendEmpty(ctx context.Context, pgURL string) (bool, error) {
	conn, err := pgx.Connect(ctx, withoutPoolParams(pgURL))
	if err != nil {
		return false, fmt.Errorf("connect to FerretDB's database: %w", err)
	}
	defer conn.Close(context.Background())
	var empty bool
	err = conn.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = $1)", ferretDBMetadataTable).Scan(&empty)
	if err != nil {
		return false, fmt.Errorf("look into FerretDB's database: %w", err)
	}
	return empty, nil
}

// withoutPoolParams drops the pgxpool settings (pool_*) from a URL, which a
// single connection would send to the server as unknown settings.
func withoutPoolParams(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// checkMongo pings the server, then inserts, finds and drops a document in a
// scratch database, so a server that accepts connections but cannot store
// data is not taken as ready.
func checkMongo(ctx context.Context, uri string, roundTrip bool) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(2 * time.Second).
		SetConnectTimeout(2 * time.Second))
	if err != nil {
		return fmt.Errorf("mongo client: %w", err)
	}
	defer client.Disconnect(context.Background())
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if !roundTrip {
		return nil
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("probe id: %w", err)
	}
	id := hex.EncodeToString(b)
	db := client.Database(mongoProbeDB)
	defer db.Drop(context.Background())
	coll := db.Collection("probe")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: time.Now()}}); err != nil {
		return fmt.Errorf("insert probe: %w", err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
		return fmt.Errorf("find probe: %w", err)
	}
	if got["_id"] != id {
		return errors.New("find probe: got another document")
	}
	if err := db.Drop(ctx); err != nil {
		return fmt.Errorf("drop probe database: %w", err)
	}
	return nil
}
