package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sagaflow/sagaflow/config"
)

// settings is everything the launcher takes from its environment. main reads
// the environment once, through loadSettings; nothing below it calls Getenv.
type settings struct {
	repoRoot string // folder holding go.mod, .tools and stack/
	dataDir  string // absolute; default <repoRoot>/.data
	ports    ports

	namespace string // Temporal namespace (TEMPORAL_NAMESPACE, default "default")
	// uiCodecEndpoint is the codec server the dev server's Web UI calls to
	// decode payloads (SAGAFLOW_UI_CODEC_ENDPOINT; "": none).
	uiCodecEndpoint string

	// Existing servers to use instead of starting ours; empty = start ours.
	extTemporalAddress string
	extTemporalUIURL   string
	extInventoryURL    string
	extPaymentsURL     string
	extReportingURL    string
	extMongoURI        string
	// extFerretDBPostgresURL is an existing PostgreSQL database for our
	// FerretDB instead of the ferretdb database of our cluster
	// (SAGAFLOW_FERRETDB_POSTGRESQL_URL).
	extFerretDBPostgresURL string

	// pgPartial names the PostgreSQL URL variables set without both of
	// INVENTORY_DATABASE_URL and PAYMENTS_DATABASE_URL (ours is started for
	// every database; a variable still wins for its database).
	pgPartial string
	// pgMissing names the PostgreSQL URL variable that is not set although
	// the others replace our cluster (REPORTING_DATABASE_URL): up and status
	// refuse to run without it (see checkPostgresVars).
	pgMissing string

	root bool // running as uid 0: PostgreSQL tools run as the postgres user
}

// envUICodecEndpoint names the codec server the Web UI of our dev server
// uses, such as http://127.0.0.1:8234 (go run ./codecserver).
const envUICodecEndpoint = "SAGAFLOW_UI_CODEC_ENDPOINT"

// loadSettings reads the environment through getenv.
func loadSettings(getenv func(string) string) (settings, error) {
	root, err := config.RepoRoot()
	if err != nil {
		return settings{}, err
	}
	dataDir, err := config.DataDir(getenv)
	if err != nil {
		return settings{}, err
	}
	p, err := parsePorts(getenv)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		repoRoot:               root,
		dataDir:                dataDir,
		ports:                  p,
		namespace:              getenv(config.EnvTemporalNamespace),
		uiCodecEndpoint:        getenv(envUICodecEndpoint),
		extTemporalAddress:     getenv(config.EnvTemporalAddress),
		extTemporalUIURL:       getenv(config.EnvTemporalUIURL),
		extMongoURI:            getenv(config.EnvMongoURI),
		extFerretDBPostgresURL: getenv(envFerretDBPostgresURL),
		root:                   os.Geteuid() == 0,
	}
	if s.namespace == "" {
		s.namespace = "default"
	}
	// PostgreSQL is replaced only when both services have a server, and
	// then the reporting database must have one too: one cluster of ours
	// serves every database or none.
	inv, pay, rep := getenv(config.EnvInventoryURL), getenv(config.EnvPaymentsURL), getenv(config.EnvReportingURL)
	if inv != "" && pay != "" {
		s.extInventoryURL, s.extPaymentsURL, s.extReportingURL = inv, pay, rep
		if rep == "" {
			s.pgMissing = config.EnvReportingURL
		}
	} else {
		var set []string
		for _, v := range []struct{ key, value string }{
			{config.EnvInventoryURL, inv}, {config.EnvPaymentsURL, pay}, {config.EnvReportingURL, rep},
		} {
			if v.value != "" {
				set = append(set, v.key)
			}
		}
		s.pgPartial = strings.Join(set, " and ")
	}
	return s, nil
}

// externalPostgres reports whether existing PostgreSQL servers replace ours.
func (s settings) externalPostgres() bool { return s.extInventoryURL != "" }

// pgExternalVars names the variables by which existing PostgreSQL servers
// replace our cluster.
func pgExternalVars() string {
	return config.EnvInventoryURL + ", " + config.EnvPaymentsURL + " and " + config.EnvReportingURL
}

// checkPostgresVars refuses existing PostgreSQL servers for the services
// without one for the reporting database: our cluster serves all of them or
// none.
func (s settings) checkPostgresVars() error {
	if s.pgMissing == "" {
		return nil
	}
	return fmt.Errorf("%s is not set: %s and %s replace the local PostgreSQL cluster, so the reporting database (the read store) "+
		"must be an existing server too; set %s to its URL, or unset %s and %s to use the local cluster",
		s.pgMissing, config.EnvInventoryURL, config.EnvPaymentsURL, s.pgMissing, config.EnvInventoryURL, config.EnvPaymentsURL)
}

func (s settings) toolsBin() string  { return filepath.Join(s.repoRoot, ".tools", "bin") }
func (s settings) logsDir() string   { return filepath.Join(s.dataDir, "logs") }
func (s settings) runDir() string    { return filepath.Join(s.dataDir, "run") }
func (s settings) stackFile() string { return filepath.Join(s.dataDir, config.StackFileName) }
func (s settings) logFile(name string) string {
	return filepath.Join(s.logsDir(), name+".log")
}

// ensureDirs creates the data, logs and run folders. The data folder is
// world-traversable so the postgres user can reach its cluster inside it.
func (s settings) ensureDirs() error {
	for _, d := range []string{s.dataDir, s.logsDir(), s.runDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}
