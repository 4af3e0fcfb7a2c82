package uitest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// screenshotsEnv names the variable that, set to a folder, makes the test
// save its screenshots there (docs/screenshots for the README).
const screenshotsEnv = "SAGAFLOW_SCREENSHOTS"

// waitTimeout bounds each wait for the UI to show something.
const waitTimeout = 30 * time.Second

// browser is one headless Chromium tab on the Web UI.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the Web UI's address, without a trailing slash
}

// newBrowser starts headless Chromium with a fresh profile; it skips the
// test without Chromium (fails it under CI=true).
func newBrowser(t *testing.T, ctx context.Context, uiURL string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium needed under CI (apt-get install -y chromium): %v", err)
		}
		t.Skipf("Chromium not installed (apt-get install -y chromium): %v", err)
	}
	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1300),
	)
	t.Cleanup(cancel)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, base: strings.TrimRight(uiURL, "/")}
}

// do runs actions, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// open loads a page of the UI (a path such as /namespaces/default/workflows).
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// textsJS reports, for the elements css selects, which of texts their
// visible text lacks (an input's value, an SVG element's text content, an
// iframe's document).
const textsJS = `(css, texts) => {
	const text = e => e.tagName === 'INPUT' ? e.value :
		e.tagName === 'IFRAME' ? (e.contentDocument?.body?.innerText ?? '') : (e.innerText ?? e.textContent);
	const seen = Array.from(document.querySelectorAll(css)).map(text).join('\n');
	return texts.filter(t => !seen.includes(t));
}`

// waitTexts waits until the elements css selects show every one of texts.
func (b *browser) waitTexts(what, css string, texts ...string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.PollFunction[bool](
		`(css, texts) => (`+textsJS+`)(css, texts).length === 0`,
		chromedp.WithPollingArgs(css, texts), chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		missing, merr := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(%s)(%q, %s)`, textsJS, css, jsStrings(texts))))
		b.fail("%s: %v; %s lacks %q (%v)", what, err, css, missing, merr)
	}
}

// waitJS waits until the JavaScript expression is truthy.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// text returns the visible text of the first element css selects.
func (b *browser) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.fail("text of %s: %v", css, err)
	}
	return s
}

// screenshot saves the page as name.png in the folder SAGAFLOW_SCREENSHOTS
// names, if any.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	b.save(dir, name)
}

func (b *browser) save(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// fail ends the test, first saving the page (screenshot and HTML) to help
// find out why: in SAGAFLOW_SCREENSHOTS when set, else in the test's
// temporary folder, which go test -v names.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	if b.ctx.Err() == nil {
		dir := os.Getenv(screenshotsEnv)
		if dir == "" {
			dir = b.t.TempDir()
		}
		name := "failed-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.t.Name())
		b.save(dir, name)
		if html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
			_ = os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644) // best effort: we are failing already
		}
	}
	b.t.Fatalf(format, args...)
}

// jsStrings renders strings as a JavaScript array literal.
func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
