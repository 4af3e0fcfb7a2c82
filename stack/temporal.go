package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

func temporalDBPath(s settings) string {
	return filepath.Join(s.dataDir, "temporal", "temporal.db")
}

func temporalIdentity(s settings) processIdentity {
	return processIdentity{exe: filepath.Join(s.toolsBin(), temporalBin), marker: temporalDBPath(s)}
}

func temporalAddress(port int) string { return listenAddr(port) }

func temporalUIURL(port int) string {
	return "http://" + listenAddr(port)
}

// temporalArgs is the dev server's command line: a SQLite file in WAL mode
// (about 4x the throughput of the default journal), server-side eager
// activity dispatch, a transfer queue read up to 200 times a second instead
// of 20 (each workflow or activity task that is not dispatched eagerly
// waited for the next read, 40 ms on average: a six-step saga took 250 ms
// at one client, 53 ms with this), the sagas' search attributes, and the
// Web UI's codec server when one is set.
func temporalArgs(s settings, port, uiPort int) []string {
	args := []string{
		"server", "start-dev",
		"--ip", listenHost,
		"--port", strconv.Itoa(port),
		"--ui-port", strconv.Itoa(uiPort),
		"--namespace", s.namespace,
		"--db-filename", temporalDBPath(s),
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--dynamic-config-value", "system.enableActivityEagerExecution=true",
		"--dynamic-config-value", "history.transferProcessorMaxPollRPS=200",
		"--log-level", "warn",
	}
	for _, sa := range temporalSearchAttributes() {
		args = append(args, "--search-attribute", sa+"=Keyword")
	}
	if s.uiCodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", s.uiCodecEndpoint)
	}
	return args
}

// startTemporal starts the Temporal dev server.
func startTemporal(s settings, bin string, port, uiPort int) (*detached, error) {
	d, err := startDetached(bin, temporalArgs(s, port, uiPort), nil, s.logFile("temporal"))
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	return d, nil
}

// checkTemporal dials the frontend, checks its health and that the sagas'
// search attributes are registered as Keyword; then, when uiURL is set,
// that the Web UI answers HTTP.
func checkTemporal(ctx context.Context, address, namespace, uiURL string) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  address,
		Namespace: namespace,
		Logger:    log.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	for _, sa := range temporalSearchAttributes() {
		if t, ok := resp.GetCustomAttributes()[sa]; !ok || t != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			return fmt.Errorf("search attribute %s is not registered as Keyword", sa)
		}
	}
	if uiURL == "" {
		return nil
	}
	return checkHTTP(ctx, uiURL)
}

// checkHTTP checks that url answers with a non-error status.
func checkHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("web ui: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("web ui: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("web ui: %s answers %s", url, resp.Status)
	}
	return nil
}
