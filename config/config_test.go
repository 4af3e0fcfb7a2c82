package config_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/config"
)

func TestEnvironmentWinsOverStackFile(t *testing.T) {
	dir := t.TempDir()
	err := config.WriteStackFile(filepath.Join(dir, config.StackFileName), map[string]string{
		config.EnvTemporalAddress: "127.0.0.1:7233",
		config.EnvMongoURI:        "mongodb://127.0.0.1:27017/",
	}, []string{config.EnvTemporalAddress, config.EnvMongoURI})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{config.EnvDataDir: dir, config.EnvMongoURI: "mongodb://elsewhere:1/"}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || c.MongoURI != "mongodb://elsewhere:1/" || c.TemporalNamespace != "default" {
		t.Fatalf("config: %+v", c)
	}
	if c.Source[config.EnvMongoURI] != "env" || !strings.HasSuffix(c.Source[config.EnvTemporalAddress], config.StackFileName) {
		t.Fatalf("sources: %v", c.Source)
	}
	err = c.Require(config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvReportingURL)
	if err == nil || !strings.Contains(err.Error(), "INVENTORY_DATABASE_URL, PAYMENTS_DATABASE_URL, REPORTING_DATABASE_URL not set") || !strings.Contains(err.Error(), "make up") {
		t.Fatalf("Require: %v", err)
	}
}

// The reporting database's URL is read like the services' ones: from the
// stack file, unless the environment sets it.
func TestReportingURL(t *testing.T) {
	dir := t.TempDir()
	fromFile := "postgres://reporting:file-pw@127.0.0.1:5432/reporting?sslmode=disable"
	err := config.WriteStackFile(filepath.Join(dir, config.StackFileName), map[string]string{
		config.EnvInventoryURL: "postgres://inventory:i@127.0.0.1:5432/inventory?sslmode=disable",
		config.EnvReportingURL: fromFile,
	}, []string{config.EnvInventoryURL, config.EnvReportingURL})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{config.EnvDataDir: dir}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.ReportingURL != fromFile || !strings.HasSuffix(c.Source[config.EnvReportingURL], config.StackFileName) {
		t.Errorf("from the stack file: ReportingURL %q, source %q", c.ReportingURL, c.Source[config.EnvReportingURL])
	}
	if err := c.Require(config.EnvInventoryURL, config.EnvReportingURL); err != nil {
		t.Errorf("Require: %v", err)
	}

	fromEnv := "postgres://reporting:env-secret-456@db.example:5432/reporting"
	env[config.EnvReportingURL] = fromEnv
	if c, err = config.Load(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.ReportingURL != fromEnv || c.Source[config.EnvReportingURL] != "env" {
		t.Errorf("from the environment: ReportingURL %q, source %q", c.ReportingURL, c.Source[config.EnvReportingURL])
	}
	printed := fmt.Sprintf("%v %+v %s", c, c, c)
	if strings.Contains(printed, "env-secret-456") {
		t.Errorf("printed config holds the reporting password: %s", printed)
	}
	if !strings.Contains(printed, "ReportingURL:postgres://reporting:xxxxx@db.example:5432/reporting") {
		t.Errorf("printed config lacks the redacted reporting URL: %s", printed)
	}

	if err := (config.Config{}).Require(config.EnvReportingURL); err == nil || !strings.Contains(err.Error(), "REPORTING_DATABASE_URL not set") {
		t.Errorf("Require on an empty config: %v", err)
	}
}

func TestMalformedStackFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, config.StackFileName)
	if err := config.WriteStackFile(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := config.ReadStackFile(path); err != nil {
		t.Fatalf("empty file: %v", err)
	}
	if err := writeFile(path, "TEMPORAL_ADDRESS\n"); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(func(k string) string {
		if k == config.EnvDataDir {
			return dir
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("got %v, want an error naming line 1", err)
	}
}

func TestTemporalSecuritySettings(t *testing.T) {
	dir := t.TempDir()
	err := config.WriteStackFile(filepath.Join(dir, config.StackFileName), map[string]string{
		config.EnvTemporalTLSCA:   "/etc/ca.pem",
		config.EnvTemporalAPIKey:  "from-file",
		config.EnvTemporalAddress: "ns.acct.tmprl.cloud:7233",
	}, []string{config.EnvTemporalTLSCA, config.EnvTemporalAPIKey, config.EnvTemporalAddress})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		config.EnvDataDir:               dir,
		config.EnvTemporalAPIKey:        "super-secret-api-key",
		config.EnvTemporalTLSCert:       "/etc/client.pem",
		config.EnvTemporalTLSKey:        "/etc/client.key",
		config.EnvTemporalTLSServerName: "temporal.internal",
		config.EnvTemporalTLS:           "true",
		config.EnvInventoryURL:          "postgres://inventory:db-password-123@127.0.0.1:5432/inventory",
	}
	c, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalTLSCA != "/etc/ca.pem" || c.TemporalAPIKey != "super-secret-api-key" || c.TemporalTLSCert != "/etc/client.pem" ||
		c.TemporalTLSKey != "/etc/client.key" || c.TemporalTLSServerName != "temporal.internal" || c.TemporalTLS != "true" {
		t.Errorf("config: %v", c)
	}
	if c.Source[config.EnvTemporalAPIKey] != "env" || c.Source[config.EnvTemporalTLSCA] == "env" {
		t.Errorf("sources: %v", c.Source)
	}
	// Printed, the configuration hides every secret.
	printed := fmt.Sprintf("%v %+v %s", c, c, c)
	for _, secret := range []string{"super-secret-api-key", "db-password-123"} {
		if strings.Contains(printed, secret) {
			t.Errorf("printed config holds %q: %s", secret, printed)
		}
	}
	if !strings.Contains(printed, "temporal.internal") {
		t.Errorf("printed config lacks the server name: %s", printed)
	}
}
