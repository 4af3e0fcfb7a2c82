package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/netdelay"
)

// delayLinks puts the run's links to Temporal, PostgreSQL and MongoDB
// behind netdelay proxies that add rtt to every round trip, as if the
// servers were that far away: it returns cfg pointing at the proxies, and
// what closes them. Each URL must name one host:port, and the MongoDB URI
// no replica set (the local stack's do); URLs of one server share a proxy.
func delayLinks(cfg config.Config, rtt time.Duration) (config.Config, func(), error) {
	var proxies []*netdelay.Proxy
	closeAll := func() {
		for _, p := range proxies {
			p.Close() //nolint:errcheck // the run is over
		}
	}
	byTarget := map[string]string{}
	proxy := func(target string) (string, error) {
		if addr, ok := byTarget[target]; ok {
			return addr, nil
		}
		p, err := netdelay.Start(target, rtt)
		if err != nil {
			return "", err
		}
		proxies = append(proxies, p)
		byTarget[target] = p.Addr()
		return p.Addr(), nil
	}
	out := cfg
	var err error
	if out.TemporalAddress, err = proxy(cfg.TemporalAddress); err != nil {
		closeAll()
		return cfg, nil, fmt.Errorf("--link-latency: Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	for _, u := range []*string{&out.InventoryURL, &out.PaymentsURL, &out.MongoURI} {
		if *u, err = rehost(*u, proxy); err != nil {
			closeAll()
			return cfg, nil, fmt.Errorf("--link-latency: %w", err)
		}
	}
	return out, closeAll, nil
}

// rehost returns raw with its one host:port replaced by the proxy's.
func rehost(raw string, proxy func(string) (string, error)) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL and its password
		}
		return "", fmt.Errorf("%s URL: %w", schemeOf(raw), err)
	}
	if u.Host == "" || strings.Contains(u.Host, ",") || u.Port() == "" {
		return "", errors.New(schemeOf(raw) + " URL: want one host:port to put a proxy in front of, got " + u.Redacted())
	}
	if u.Query().Has("replicaSet") {
		return "", errors.New("MongoDB URI names a replica set: its members would be reached around the proxy; give a single-host URI")
	}
	if u.Host, err = proxy(u.Host); err != nil {
		return "", fmt.Errorf("%s at %s: %w", schemeOf(raw), u.Host, err)
	}
	return u.String(), nil
}

func schemeOf(raw string) string {
	if scheme, _, ok := strings.Cut(raw, "://"); ok {
		return scheme
	}
	return "database"
}
