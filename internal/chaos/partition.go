package chaos

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/Shopify/toxiproxy/v2"
	_ "github.com/Shopify/toxiproxy/v2/toxics" // registers the toxics, the timeout one included
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/sagaflow/sagaflow/config"
)

// The servers a worker can be cut off from.
const (
	ServerPostgres = "postgres"
	ServerFerretDB = "ferretdb"
	ServerTemporal = "temporal"
)

// PartitionServers are the servers a partition cuts a worker off from.
var PartitionServers = []string{ServerPostgres, ServerFerretDB, ServerTemporal}

// Partitions puts each worker's connections to PostgreSQL, FerretDB and
// Temporal behind proxies of its own (Toxiproxy, run in this process), so
// that one worker can be cut off from one server the way a network
// partition does it: what is sent is dropped, nothing is refused or
// closed, and the worker's connections, old and new, hang (Toxiproxy's
// timeout toxic with no timeout, on both directions) until the partition
// heals. Healing closes the connections that hung (Toxiproxy ends the
// toxic's streams), as a middlebox that lost their state would; new ones
// pass.
// Toxiproxy rather than internal/netdelay: it already has this toxic
// (and latency, bandwidth, reset), driven per proxy while connections
// stay up; netdelay only delays, which the benchmark needs and no more.
type Partitions struct {
	server *toxiproxy.ApiServer
	// proxies[i][server] are worker i's proxies.
	proxies []map[string]*toxiproxy.Proxy
	// env[i] are worker i's addresses, through its proxies.
	env [][]string

	mu  sync.Mutex
	cut map[string]bool // "<worker>/<server>" currently cut
}

// NewPartitions starts the proxies of n workers in front of the servers of
// cfg: one PostgreSQL server (the inventory, payments and reporting
// databases must share it, as on the local stack), FerretDB and Temporal.
func NewPartitions(cfg config.Config, n int) (*Partitions, error) {
	pgURLs := map[string]string{config.EnvInventoryURL: cfg.InventoryURL, config.EnvPaymentsURL: cfg.PaymentsURL,
		config.EnvReportingURL: cfg.ReportingURL}
	pgHost := ""
	for name, u := range pgURLs {
		host, err := urlHost(u)
		if err != nil {
			return nil, fmt.Errorf("partitions: %s: %w", name, err)
		}
		if pgHost != "" && host != pgHost {
			return nil, fmt.Errorf("partitions: the PostgreSQL databases are on %s and %s: they must share one server", pgHost, host)
		}
		pgHost = host
	}
	mongoHost, err := urlHost(cfg.MongoURI)
	if err != nil {
		return nil, fmt.Errorf("partitions: %s: %w", config.EnvMongoURI, err)
	}
	upstream := map[string]string{ServerPostgres: pgHost, ServerFerretDB: mongoHost, ServerTemporal: cfg.TemporalAddress}
	p := &Partitions{
		server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop()),
		cut:    map[string]bool{},
	}
	for i := range n {
		proxies := map[string]*toxiproxy.Proxy{}
		p.proxies = append(p.proxies, proxies)
		for _, s := range PartitionServers {
			proxy := toxiproxy.NewProxy(p.server, fmt.Sprintf("worker-%d-%s", i, s), "127.0.0.1:0", upstream[s])
			if err := proxy.Start(); err != nil {
				p.Close()
				return nil, fmt.Errorf("partitions: proxy of worker %d to %s: %w", i, s, err)
			}
			proxies[s] = proxy
		}
		env := []string{config.EnvTemporalAddress + "=" + proxies[ServerTemporal].Listen}
		for name, u := range pgURLs {
			env = append(env, name+"="+withHost(u, proxies[ServerPostgres].Listen))
		}
		env = append(env, config.EnvMongoURI+"="+withHost(cfg.MongoURI, proxies[ServerFerretDB].Listen))
		p.env = append(p.env, env)
	}
	return p, nil
}

// Env returns worker i's server addresses, through its proxies, as
// environment variables.
func (p *Partitions) Env(i int) []string { return p.env[i] }

// partitionToxic is the toxic of a cut, on each direction.
const partitionToxic = `{"name": "partition-%[1]s", "type": "timeout", "stream": "%[1]s", "toxicity": 1, "attributes": {"timeout": 0}}`

// Cut cuts worker i off from server: from now on, nothing passes either
// way on its connections, old or new, until Heal.
func (p *Partitions) Cut(i int, server string) error {
	proxy, err := p.proxy(i, server)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut[key(i, server)] {
		return nil
	}
	for _, stream := range []string{"upstream", "downstream"} {
		if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(partitionToxic, stream))); err != nil {
			return fmt.Errorf("cut worker %d from %s: %w", i, server, err)
		}
	}
	p.cut[key(i, server)] = true
	return nil
}

// Heal ends worker i's partition from server: the connections that hung
// are closed (what was sent meanwhile is lost, as on a network that
// dropped it) and new ones pass.
func (p *Partitions) Heal(i int, server string) error {
	proxy, err := p.proxy(i, server)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut[key(i, server)] {
		return nil
	}
	for _, stream := range []string{"upstream", "downstream"} {
		if err := proxy.Toxics.RemoveToxic(context.Background(), "partition-"+stream); err != nil {
			return fmt.Errorf("heal worker %d from %s: %w", i, server, err)
		}
	}
	delete(p.cut, key(i, server))
	return nil
}

// Close stops every proxy, closing the connections through them.
func (p *Partitions) Close() {
	for _, proxies := range p.proxies {
		for _, proxy := range proxies {
			proxy.Stop()
		}
	}
}

func (p *Partitions) proxy(i int, server string) (*toxiproxy.Proxy, error) {
	if i < 0 || i >= len(p.proxies) {
		return nil, fmt.Errorf("partitions: no worker %d", i)
	}
	proxy, ok := p.proxies[i][server]
	if !ok {
		return nil, fmt.Errorf("partitions: no server %q (want one of %s)", server, strings.Join(PartitionServers, ", "))
	}
	return proxy, nil
}

func key(i int, server string) string { return fmt.Sprintf("%d/%s", i, server) }

// urlHost returns the host:port of a URL (postgres://, mongodb://).
func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("malformed URL") // the error may quote the password
	}
	if strings.Contains(u.Host, ",") {
		return "", fmt.Errorf("%s names several hosts: a partition proxies one", u.Host)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return "", fmt.Errorf("host %q has no port", u.Host)
	}
	return u.Host, nil
}

// withHost returns raw with its host:port replaced by hostPort.
func withHost(raw, hostPort string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Host = hostPort
	return u.String()
}
