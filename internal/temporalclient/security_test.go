package temporalclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// pki is a CA generated for one test, with a server certificate for
// 127.0.0.1 and temporal.test and a client certificate, as PEM files.
type pki struct {
	ca                        *x509.Certificate
	caKey                     *ecdsa.PrivateKey
	caFile                    string
	serverCert                tls.Certificate
	clientCertFile, clientKey string
}

func newPKI(t *testing.T, dir, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: ca, caKey: key, caFile: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, p.caFile, "CERTIFICATE", der)
	serverDER, serverKey := p.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "temporal.test"}, DNSNames: []string{"temporal.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.serverCert = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := p.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "sagaflow-worker"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	p.clientCertFile, p.clientKey = filepath.Join(dir, name+"-client.pem"), filepath.Join(dir, name+"-client.key")
	writePEM(t, p.clientCertFile, "CERTIFICATE", clientDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.clientKey, "PRIVATE KEY", keyDER)
	return p
}

func (p *pki) issue(t *testing.T, tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mTLSProxy terminates TLS, requiring a client certificate signed by p's
// CA, and forwards the plaintext to target (the dev server). It returns
// its address.
func mTLSProxy(t *testing.T, p *pki, target string) string {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{p.serverCert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		NextProtos:   []string{"h2"}, // gRPC insists on ALPN
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go forward(l, target)
	return l.Addr().String()
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// dialVia dials with cfg, returning the error and how long it took.
func dialVia(t *testing.T, cfg config.Config) (client.Client, time.Duration, error) {
	t.Helper()
	start := time.Now()
	c, err := temporalclient.Dial(context.Background(), cfg, temporalclient.Options{Logger: quietLogger(), Timeout: 20 * time.Second})
	return c, time.Since(start), err
}

func TestDialOverMutualTLS(t *testing.T) {
	stack := testenv.Config(t, config.EnvTemporalAddress)
	dir := t.TempDir()
	good, wrong := newPKI(t, dir, "good"), newPKI(t, dir, "wrong")
	addr := mTLSProxy(t, good, stack.TemporalAddress)
	base := config.Config{TemporalAddress: addr, TemporalNamespace: stack.TemporalNamespace}

	t.Run("CA and client certificate", func(t *testing.T) {
		cfg := base
		cfg.TemporalTLSCA, cfg.TemporalTLSCert, cfg.TemporalTLSKey = good.caFile, good.clientCertFile, good.clientKey
		c, _, err := dialVia(t, cfg)
		if err != nil {
			t.Fatalf("dial over mTLS: %v", err)
		}
		defer c.Close()
		if _, err := c.CheckHealth(context.Background(), &client.CheckHealthRequest{}); err != nil {
			t.Errorf("health through the proxy: %v", err)
		}
	})
	t.Run("server name", func(t *testing.T) {
		cfg := base
		cfg.TemporalTLSCA, cfg.TemporalTLSCert, cfg.TemporalTLSKey = good.caFile, good.clientCertFile, good.clientKey
		cfg.TemporalTLSServerName = "temporal.test"
		c, _, err := dialVia(t, cfg)
		if err != nil {
			t.Fatalf("dial with server name temporal.test: %v", err)
		}
		c.Close()
		cfg.TemporalTLSServerName = "other.test"
		if _, _, err := dialVia(t, cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a server name the certificate lacks: %v", err)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		cfg := base
		cfg.TemporalTLSCA = good.caFile
		_, took, err := dialVia(t, cfg)
		if err == nil {
			t.Fatal("dial without a client certificate succeeded")
		}
		if took > 10*time.Second {
			t.Errorf("gave up after %s: a refused handshake should end the wait at once", took)
		}
		t.Logf("without a client certificate: %v", err)
	})
	t.Run("wrong CA", func(t *testing.T) {
		cfg := base
		cfg.TemporalTLSCA, cfg.TemporalTLSCert, cfg.TemporalTLSKey = wrong.caFile, good.clientCertFile, good.clientKey
		_, took, err := dialVia(t, cfg)
		if err == nil {
			t.Fatal("dial trusting the wrong CA succeeded")
		}
		if !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), config.EnvTemporalTLSCA) {
			t.Errorf("error should mention the certificate and %s: %v", config.EnvTemporalTLSCA, err)
		}
		if took > 10*time.Second {
			t.Errorf("gave up after %s: an untrusted certificate should end the wait at once", took)
		}
	})
	t.Run("client certificate of another CA", func(t *testing.T) {
		cfg := base
		cfg.TemporalTLSCA, cfg.TemporalTLSCert, cfg.TemporalTLSKey = good.caFile, wrong.clientCertFile, wrong.clientKey
		if _, _, err := dialVia(t, cfg); err == nil {
			t.Fatal("dial with a client certificate the server does not trust succeeded")
		}
	})
}

// Bad files are reported before any dial, naming the file.
func TestDialRefusesBadSecurityFiles(t *testing.T) {
	dir := t.TempDir()
	p := newPKI(t, dir, "p")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	// 127.0.0.1:1 answers nothing: an error that came from dialing would
	// take the whole timeout and say "cannot reach".
	base := config.Config{TemporalAddress: "127.0.0.1:1", TemporalNamespace: "default"}
	for name, tc := range map[string]struct {
		set  func(*config.Config)
		want []string
	}{
		"missing CA":   {func(c *config.Config) { c.TemporalTLSCA = missing }, []string{config.EnvTemporalTLSCA, missing}},
		"CA not PEM":   {func(c *config.Config) { c.TemporalTLSCA = garbage }, []string{config.EnvTemporalTLSCA, garbage, "no PEM certificate"}},
		"cert, no key": {func(c *config.Config) { c.TemporalTLSCert = p.clientCertFile }, []string{config.EnvTemporalTLSKey, "is not"}},
		"key, no cert": {func(c *config.Config) { c.TemporalTLSKey = p.clientKey }, []string{config.EnvTemporalTLSCert, "is not"}},
		"key not PEM":  {func(c *config.Config) { c.TemporalTLSCert, c.TemporalTLSKey = p.clientCertFile, garbage }, []string{garbage, p.clientCertFile}},
		"missing cert": {func(c *config.Config) { c.TemporalTLSCert, c.TemporalTLSKey = missing, p.clientKey }, []string{missing}},
		"TLS not bool": {func(c *config.Config) { c.TemporalTLS = "maybe" }, []string{config.EnvTemporalTLS, "maybe"}},
		"TLS off + CA": {func(c *config.Config) { c.TemporalTLS, c.TemporalTLSCA = "false", p.caFile }, []string{config.EnvTemporalTLSCA, "false"}},
	} {
		cfg := base
		tc.set(&cfg)
		start := time.Now()
		_, err := temporalclient.Dial(context.Background(), cfg, temporalclient.Options{Logger: quietLogger(), Timeout: 10 * time.Second})
		if err == nil {
			t.Errorf("%s: dial succeeded", name)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q should name %q", name, err, want)
			}
		}
		if time.Since(start) > 2*time.Second || strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("%s: the error came from dialing, not from checking the files: %v", name, err)
		}
	}
}

// An API key alone turns TLS on (as Temporal Cloud requires), so against
// the plaintext dev server the handshake fails at once; TEMPORAL_TLS=false
// sends it in plaintext, which the dev server (no authorizer) accepts.
func TestAPIKeyImpliesTLSUnlessTurnedOff(t *testing.T) {
	stack := testenv.Config(t, config.EnvTemporalAddress)
	cfg := config.Config{TemporalAddress: stack.TemporalAddress, TemporalNamespace: stack.TemporalNamespace, TemporalAPIKey: "test-api-key"}
	_, took, err := dialVia(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake failed") {
		t.Errorf("API key to a plaintext server: %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("gave up after %s", took)
	}
	cfg.TemporalTLS = "false"
	c, _, err := dialVia(t, cfg)
	if err != nil {
		t.Fatalf("API key with TEMPORAL_TLS=false: %v", err)
	}
	c.Close()
}
