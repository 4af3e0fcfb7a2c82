package temporalclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sagaflow/sagaflow/config"
)

// security returns the connection options and credentials that c asks for:
//
//   - TLS when TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY,
//     TEMPORAL_TLS_SERVER_NAME or TEMPORAL_API_KEY is set, or when
//     TEMPORAL_TLS=true; TEMPORAL_TLS=false turns it off (an API key over a
//     plaintext connection, to a local proxy say), and refuses the other
//     TLS settings.
//   - The server's certificate is checked against TEMPORAL_TLS_CA (PEM), or
//     the system's roots when unset, for the host of TEMPORAL_ADDRESS or
//     TEMPORAL_TLS_SERVER_NAME.
//   - mTLS: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY, both or neither.
//   - TEMPORAL_API_KEY is sent as "Authorization: Bearer <key>".
//
// Files are read here, before any dial, and an error names the file.
func security(c config.Config) (client.ConnectionOptions, client.Credentials, error) {
	var conn client.ConnectionOptions
	var creds client.Credentials
	if c.TemporalAPIKey != "" {
		creds = client.NewAPIKeyStaticCredentials(c.TemporalAPIKey)
	}
	tlsSettings := c.TemporalTLSCA != "" || c.TemporalTLSCert != "" || c.TemporalTLSKey != "" || c.TemporalTLSServerName != ""
	useTLS := tlsSettings || c.TemporalAPIKey != ""
	if c.TemporalTLS != "" {
		on, err := strconv.ParseBool(c.TemporalTLS)
		if err != nil {
			return conn, nil, fmt.Errorf("%s=%q: want true or false", config.EnvTemporalTLS, c.TemporalTLS)
		}
		if !on && tlsSettings {
			return conn, nil, fmt.Errorf("%s=false, but %s: set one or the other",
				config.EnvTemporalTLS, strings.Join(setTLSKeys(c), ", "))
		}
		useTLS = on
	}
	if !useTLS {
		// Said explicitly, since the SDK turns TLS on for an API key.
		conn.TLSDisabled = true
		return conn, creds, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TemporalTLSServerName}
	if c.TemporalTLSCA != "" {
		pem, err := os.ReadFile(c.TemporalTLSCA)
		if err != nil {
			return conn, nil, fmt.Errorf("%s: read the CA file: %w", config.EnvTemporalTLSCA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return conn, nil, fmt.Errorf("%s: %s holds no PEM certificate", config.EnvTemporalTLSCA, c.TemporalTLSCA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.TemporalTLSCert != "" && c.TemporalTLSKey != "":
		pair, err := tls.LoadX509KeyPair(c.TemporalTLSCert, c.TemporalTLSKey)
		if err != nil {
			return conn, nil, fmt.Errorf("%s=%s, %s=%s: load the client certificate and its key: %w",
				config.EnvTemporalTLSCert, c.TemporalTLSCert, config.EnvTemporalTLSKey, c.TemporalTLSKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case c.TemporalTLSCert != "":
		return conn, nil, fmt.Errorf("%s is set but %s is not: mTLS needs both", config.EnvTemporalTLSCert, config.EnvTemporalTLSKey)
	case c.TemporalTLSKey != "":
		return conn, nil, fmt.Errorf("%s is set but %s is not: mTLS needs both", config.EnvTemporalTLSKey, config.EnvTemporalTLSCert)
	}
	conn.TLS = cfg
	return conn, creds, nil
}

// setTLSKeys names the TLS settings that c sets.
func setTLSKeys(c config.Config) []string {
	var keys []string
	for k, v := range map[string]string{config.EnvTemporalTLSCA: c.TemporalTLSCA, config.EnvTemporalTLSCert: c.TemporalTLSCert,
		config.EnvTemporalTLSKey: c.TemporalTLSKey, config.EnvTemporalTLSServerName: c.TemporalTLSServerName} {
		if v != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// refusal explains an error that waiting will not cure: a TLS handshake
// that failed (a certificate not trusted, a client certificate missing or
// refused, TLS spoken to a plaintext server or the reverse) or credentials
// refused. It returns "" for any other error.
func refusal(err error) string {
	var denied *serviceerror.PermissionDenied
	switch {
	case status.Code(err) == codes.Unauthenticated, errors.As(err, &denied):
		return "the server refused the credentials: check " + config.EnvTemporalAPIKey + " (or the client certificate) and the namespace"
	}
	msg := err.Error()
	for _, s := range []string{"authentication handshake failed", "x509:", "tls:", "first record does not look like a TLS handshake"} {
		if strings.Contains(msg, s) {
			return "the TLS handshake failed: check " + config.EnvTemporalTLSCA + ", " + config.EnvTemporalTLSCert + ", " +
				config.EnvTemporalTLSKey + " and " + config.EnvTemporalTLSServerName + " (or " + config.EnvTemporalTLS + ")"
		}
	}
	return ""
}
