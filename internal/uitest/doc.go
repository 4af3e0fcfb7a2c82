// Package uitest holds the browser test of the Temporal Web UI: headless
// Chromium, driven through chromedp, checks that an operator finds the
// sagas by their search attributes, reads every step and compensation by
// its summary, and runs the state query, on the local stack's UI.
//
// Run it with `go test ./internal/uitest`; with SAGAFLOW_SCREENSHOTS=dir it
// saves the screenshots the README shows (docs/screenshots).
package uitest
