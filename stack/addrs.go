package main

import (
	"fmt"
	"net/url"

	"github.com/sagaflow/sagaflow/config"
)

// stackAddrs are the addresses the stack file publishes.
type stackAddrs struct {
	temporal, namespace, temporalUI string
	inventory, payments, reporting  string
	mongo                           string
}

// stackFileOrder is the order of the keys in the stack file.
func stackFileOrder() []string {
	return []string{config.EnvTemporalAddress, config.EnvTemporalNamespace, config.EnvTemporalUIURL,
		config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvReportingURL, config.EnvMongoURI}
}

// stackFileRequired are the keys every stack file of this version holds
// (the Web UI's is left out: an existing Temporal may have none); up
// rewrites a stack file without one of them, such as one an earlier
// version wrote before the reporting database existed.
func stackFileRequired() []string {
	var keys []string
	for _, k := range stackFileOrder() {
		if k != config.EnvTemporalUIURL {
			keys = append(keys, k)
		}
	}
	return keys
}

// stackFileMissing returns the keys of stackFileRequired that the stack
// file at path lacks (all of them when it does not read).
func stackFileMissing(path string) []string {
	values, err := config.ReadStackFile(path)
	if err != nil {
		return stackFileRequired()
	}
	var missing []string
	for _, k := range stackFileRequired() {
		if values[k] == "" {
			missing = append(missing, k)
		}
	}
	return missing
}

func (a stackAddrs) values() map[string]string {
	v := map[string]string{
		config.EnvTemporalAddress:   a.temporal,
		config.EnvTemporalNamespace: a.namespace,
		config.EnvInventoryURL:      a.inventory,
		config.EnvPaymentsURL:       a.payments,
		config.EnvReportingURL:      a.reporting,
		config.EnvMongoURI:          a.mongo,
	}
	if a.temporalUI != "" {
		v[config.EnvTemporalUIURL] = a.temporalUI
	}
	return v
}

// addrs assembles the published addresses: ours, or the existing servers'.
func (la launcher) addrs(tPort, tUIPort, fPort int, pgURLMap map[string]string) stackAddrs {
	s := la.s
	a := stackAddrs{namespace: s.namespace}
	if s.extTemporalAddress != "" {
		a.temporal, a.temporalUI = s.extTemporalAddress, s.extTemporalUIURL
	} else {
		a.temporal, a.temporalUI = temporalAddress(tPort), temporalUIURL(tUIPort)
	}
	if s.externalPostgres() {
		a.inventory, a.payments, a.reporting = s.extInventoryURL, s.extPaymentsURL, s.extReportingURL
	} else {
		a.inventory, a.payments, a.reporting = pgURLMap["inventory"], pgURLMap["payments"], pgURLMap[pgReporting]
	}
	if s.extMongoURI != "" {
		a.mongo = s.extMongoURI
	} else {
		a.mongo = mongoURI(fPort)
	}
	return a
}

// pgURLs returns the URLs of the databases of our cluster, by role: the
// services' and FerretDB's.
func pgURLs(port int, passwords map[string]string) map[string]string {
	urls := map[string]string{}
	for _, svc := range pgDatabases() {
		urls[svc] = pgServiceURL(port, svc, passwords[svc])
	}
	return urls
}

// redact hides the password of a URL for printing.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// printAddrs prints the addresses of a, one per line.
func (la launcher) printAddrs(a stackAddrs) {
	w := la.out
	fmt.Fprintf(w, "  Temporal            %s (namespace %s)\n", a.temporal, a.namespace)
	if a.temporalUI != "" {
		fmt.Fprintf(w, "  Temporal Web UI     %s\n", a.temporalUI)
	}
	fmt.Fprintf(w, "  PostgreSQL          %s\n", redact(a.inventory))
	fmt.Fprintf(w, "                      %s\n", redact(a.payments))
	fmt.Fprintf(w, "                      %s\n", redact(a.reporting))
	fmt.Fprintf(w, "  MongoDB (FerretDB)  %s\n", redact(a.mongo))
	fmt.Fprintf(w, "  full URLs (with passwords) in %s\n", la.s.stackFile())
}
