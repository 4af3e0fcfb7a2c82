// Package config is the one place that knows where sagaflow's servers are.
//
// Every binary reads its configuration once, in main, by calling Load with
// os.Getenv. An environment variable always wins; a value it does not set is
// taken from the stack file that `make up` writes (.data/stack.env), so a
// worker, the starter and the tests find the local stack without flags.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Names of the environment variables (and stack file keys) sagaflow reads.
const (
	EnvTemporalAddress   = "TEMPORAL_ADDRESS"
	EnvTemporalNamespace = "TEMPORAL_NAMESPACE"
	EnvTemporalUIURL     = "TEMPORAL_UI_URL"
	EnvInventoryURL      = "INVENTORY_DATABASE_URL"
	EnvPaymentsURL       = "PAYMENTS_DATABASE_URL"
	EnvReportingURL      = "REPORTING_DATABASE_URL" // the reporting database: the read store
	EnvMongoURI          = "MONGO_URI"
	// Connection security for Temporal (see internal/temporalclient):
	// TEMPORAL_TLS forces TLS on ("true") or off ("false"); unset, TLS is on
	// when any of the others is set.
	EnvTemporalTLS           = "TEMPORAL_TLS"
	EnvTemporalTLSCA         = "TEMPORAL_TLS_CA"
	EnvTemporalTLSCert       = "TEMPORAL_TLS_CERT"
	EnvTemporalTLSKey        = "TEMPORAL_TLS_KEY"
	EnvTemporalTLSServerName = "TEMPORAL_TLS_SERVER_NAME"
	EnvTemporalAPIKey        = "TEMPORAL_API_KEY"
	// EnvDataDir overrides the data folder (default: .data at the repository root).
	EnvDataDir = "SAGAFLOW_DATA_DIR"
)

// ModulePath is the module line that marks the repository root.
const ModulePath = "github.com/sagaflow/sagaflow"

// StackFileName is the name of the file, inside the data folder, where
// `make up` writes the addresses of the servers it started.
const StackFileName = "stack.env"

// Config holds the addresses of the servers sagaflow talks to.
type Config struct {
	TemporalAddress   string
	TemporalNamespace string
	TemporalUIURL     string
	InventoryURL      string
	PaymentsURL       string
	ReportingURL      string // the reporting database (the read store)
	MongoURI          string
	// TemporalTLS is "true", "false" or "" (TLS when any TLS setting or an
	// API key is given).
	TemporalTLS string
	// TemporalTLSCA is the path of a PEM file of the CAs that sign the
	// server's certificate ("": the system's roots).
	TemporalTLSCA string
	// TemporalTLSCert and TemporalTLSKey are the paths of the PEM client
	// certificate and its key, for mTLS.
	TemporalTLSCert string
	TemporalTLSKey  string
	// TemporalTLSServerName overrides the name the server's certificate is
	// checked against.
	TemporalTLSServerName string
	// TemporalAPIKey is an API key (Temporal Cloud), sent as a bearer token.
	TemporalAPIKey string
	// Source says, per key, where its value came from ("env" or the stack file path).
	Source map[string]string
}

// Load reads the configuration: each key from getenv when set, otherwise
// from the stack file in the data folder. Missing keys stay empty; call
// Require to demand the ones a command needs.
func Load(getenv func(string) string) (Config, error) {
	values := map[string]string{}
	source := map[string]string{}
	dataDir, err := DataDir(getenv)
	if err == nil {
		path := filepath.Join(dataDir, StackFileName)
		fileValues, err := ReadStackFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return Config{}, err
		}
		for k, v := range fileValues {
			values[k] = v
			source[k] = path
		}
	}
	for _, k := range []string{EnvTemporalAddress, EnvTemporalNamespace, EnvTemporalUIURL,
		EnvInventoryURL, EnvPaymentsURL, EnvReportingURL, EnvMongoURI, EnvTemporalTLS, EnvTemporalTLSCA, EnvTemporalTLSCert,
		EnvTemporalTLSKey, EnvTemporalTLSServerName, EnvTemporalAPIKey} {
		if v := getenv(k); v != "" {
			values[k] = v
			source[k] = "env"
		}
	}
	c := Config{
		TemporalAddress:   values[EnvTemporalAddress],
		TemporalNamespace: values[EnvTemporalNamespace],
		TemporalUIURL:     values[EnvTemporalUIURL],
		InventoryURL:      values[EnvInventoryURL],
		PaymentsURL:       values[EnvPaymentsURL],
		ReportingURL:      values[EnvReportingURL],
		MongoURI:          values[EnvMongoURI],
		Source:            source,

		TemporalTLS:           values[EnvTemporalTLS],
		TemporalTLSCA:         values[EnvTemporalTLSCA],
		TemporalTLSCert:       values[EnvTemporalTLSCert],
		TemporalTLSKey:        values[EnvTemporalTLSKey],
		TemporalTLSServerName: values[EnvTemporalTLSServerName],
		TemporalAPIKey:        values[EnvTemporalAPIKey],
	}
	if c.TemporalNamespace == "" {
		c.TemporalNamespace = "default"
	}
	return c, nil
}

// String describes c for messages and logs with every secret hidden: the
// passwords of the database URLs and the API key.
func (c Config) String() string {
	apiKey := ""
	if c.TemporalAPIKey != "" {
		apiKey = "(set)"
	}
	return fmt.Sprintf("{TemporalAddress:%s TemporalNamespace:%s TemporalUIURL:%s InventoryURL:%s PaymentsURL:%s ReportingURL:%s MongoURI:%s "+
		"TemporalTLS:%s TemporalTLSCA:%s TemporalTLSCert:%s TemporalTLSKey:%s TemporalTLSServerName:%s TemporalAPIKey:%s}",
		c.TemporalAddress, c.TemporalNamespace, c.TemporalUIURL, redactURL(c.InventoryURL), redactURL(c.PaymentsURL), redactURL(c.ReportingURL),
		redactURL(c.MongoURI),
		c.TemporalTLS, c.TemporalTLSCA, c.TemporalTLSCert, c.TemporalTLSKey, c.TemporalTLSServerName, apiKey)
}

// redactURL hides the password of a URL; a URL that does not parse is
// hidden whole.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(malformed URL)"
	}
	return u.Redacted()
}

// Require returns an error naming every key in keys that has no value.
func (c Config) Require(keys ...string) error {
	var missing []string
	for _, k := range keys {
		if c.value(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not set: run `make up` to start the local stack, or set %s to an existing server",
			strings.Join(missing, ", "), strings.Join(missing, " / "))
	}
	return nil
}

func (c Config) value(key string) string {
	switch key {
	case EnvTemporalAddress:
		return c.TemporalAddress
	case EnvTemporalNamespace:
		return c.TemporalNamespace
	case EnvTemporalUIURL:
		return c.TemporalUIURL
	case EnvInventoryURL:
		return c.InventoryURL
	case EnvPaymentsURL:
		return c.PaymentsURL
	case EnvReportingURL:
		return c.ReportingURL
	case EnvMongoURI:
		return c.MongoURI
	case EnvTemporalTLS:
		return c.TemporalTLS
	case EnvTemporalTLSCA:
		return c.TemporalTLSCA
	case EnvTemporalTLSCert:
		return c.TemporalTLSCert
	case EnvTemporalTLSKey:
		return c.TemporalTLSKey
	case EnvTemporalTLSServerName:
		return c.TemporalTLSServerName
	case EnvTemporalAPIKey:
		return c.TemporalAPIKey
	}
	return ""
}

// DataDir returns the data folder: $SAGAFLOW_DATA_DIR, or .data at the
// repository root found by walking up from the working directory.
func DataDir(getenv func(string) string) (string, error) {
	if d := getenv(EnvDataDir); d != "" {
		return filepath.Abs(d)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".data"), nil
}

// RepoRoot walks up from the working directory to the folder whose go.mod
// declares the sagaflow module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod for %s above the working directory; set %s", ModulePath, EnvDataDir)
		}
		dir = parent
	}
}

func isModuleRoot(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == ModulePath
		}
	}
	return false
}

// ReadStackFile parses a KEY=VALUE file (blank lines and # comments ignored).
func ReadStackFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read stack file: %w", err)
	}
	values := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("read stack file %s: line %d: want KEY=VALUE", path, i+1)
		}
		values[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return values, nil
}

// WriteStackFile writes values as KEY=VALUE lines in a stable order, readable
// only by the owner (it holds database passwords).
func WriteStackFile(path string, values map[string]string, order []string) error {
	var b strings.Builder
	b.WriteString("# Written by `make up`; read by the worker, the starter and the tests.\n")
	for _, k := range order {
		if v, ok := values[k]; ok {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write stack file: %w", err)
	}
	return nil
}
