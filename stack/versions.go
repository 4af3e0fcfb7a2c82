package main

// Pinned versions of the tools the local stack builds from the Go module proxy.
const (
	// temporalCLIModule is the module whose cmd/temporal is the dev server.
	temporalCLIModule = "github.com/temporalio/cli"
	// temporalCLIVersion is the pinned Temporal CLI (dev server 1.29.1, Web UI 2.42.1).
	temporalCLIVersion = "1.5.1"
	// temporalVersionVar is stamped with temporalCLIVersion at link time so that
	// `temporal --version` reports it (a plain `go install` says 0.0.0-DEV).
	temporalVersionVar = "github.com/temporalio/cli/temporalcli.Version"
	// temporalBuildMinutes is what we tell the user the first build takes.
	temporalBuildMinutes = 6

	// ferretDBVersion is informational: the pin lives in stack/ferretdb/go.mod.
	ferretDBVersion = "v1.24.2"
)

// temporalSearchAttributes returns the custom Keyword search attributes the
// sagas set; the dev server registers them at start.
func temporalSearchAttributes() []string {
	return []string{"OrderId", "CustomerId", "SagaStatus", "FailedStep"}
}
