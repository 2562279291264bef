package ui_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/railyard-cd/railyard/storetest"
)

// The browser tests drive a real headless Chromium through the DevTools
// protocol. One browser serves the whole test binary; each test gets its
// own tab and its own server. Without a browser they skip, except under
// CI=true, where a missing browser fails the run (.ci/run installs it).

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// TestMain closes the shared browser after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $RAILYARD_CHROMIUM, or Debian's chromium.
func chromiumPath() (string, error) {
	if p := os.Getenv("RAILYARD_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (apt-get install chromium, or set RAILYARD_CHROMIUM)")
}

// startBrowser starts the shared browser once.
func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		browser.err = err
		return
	}
	dir, err := os.MkdirTemp("", "railyard-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		os.RemoveAll(dir)
		browser.err = fmt.Errorf("start %s: %w", path, err)
		return
	}
	browser.ctx = bctx
	browser.cancel = func() { bcancel(); acancel(); os.RemoveAll(dir) }
}

// tab returns a new browser tab for the test, closed at its end. It
// skips the test without a browser, or fails it under CI=true. The
// pages the tab loads must not violate the Content-Security-Policy: the
// test fails at its end if one did.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, csp := tabWatchingCSP(t)
	t.Cleanup(func() {
		if v := csp.violations(ctx); len(v) > 0 {
			t.Errorf("the pages violated the Content-Security-Policy:\n%s", strings.Join(v, "\n"))
		}
	})
	return ctx
}

// tabWatchingCSP returns a new tab and what watches it for violations of
// the Content-Security-Policy.
func tabWatchingCSP(t *testing.T) (context.Context, *cspWatch) {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs a browser for the UI tests: %v", browser.err)
		}
		t.Skipf("no browser: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext()) // its own cookies
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	csp := &cspWatch{}
	if err := csp.start(ctx); err != nil {
		t.Fatalf("watch the tab for CSP violations: %v", err)
	}
	return ctx, csp
}

// cspRecorder runs in every document of a watched tab before its own
// scripts: it keeps the page's CSP violations in sessionStorage, which
// outlives navigations within the site.
const cspRecorder = `document.addEventListener("securitypolicyviolation", function (e) {
  var v = JSON.parse(sessionStorage.getItem("csp-violations") || "[]");
  v.push(e.effectiveDirective + " blocked " + (e.blockedURI || "?") + " in " + e.sourceFile + ":" + e.lineNumber + " (" + document.location.pathname + ")");
  sessionStorage.setItem("csp-violations", JSON.stringify(v));
});`

// cspWatch collects a tab's Content-Security-Policy violations in two
// ways: the browser's own log ("Refused to … because it violates the
// following Content Security Policy directive"), and the pages'
// securitypolicyviolation events (cspRecorder).
type cspWatch struct {
	mu  sync.Mutex
	log []string
}

// start subscribes to the tab's log and installs the recorder.
func (w *cspWatch) start(ctx context.Context) error {
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			w.mu.Lock()
			w.log = append(w.log, e.Entry.Text)
			w.mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		return err
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder})
	return err
}

// violations returns what the log and the current page's site recorded.
func (w *cspWatch) violations(ctx context.Context) []string {
	w.mu.Lock()
	v := slices.Clone(w.log)
	w.mu.Unlock()
	// The page may be gone (a failed test's timeout): then the log is
	// what there is.
	if rec, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`JSON.parse(sessionStorage.getItem("csp-violations") || "[]")`)); err == nil {
		v = append(v, rec...)
	}
	return v
}

// run runs browser actions and fails the test on error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS waits until the JavaScript expression is true, polling in the
// page. A navigation ends a poll (its page is gone), so it polls again in
// the new page until the deadline.
func waitJS(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(timeout)
		guarded := "(() => { try { return !!(" + expr + ") } catch (e) { return false } })()"
		for {
			remaining := time.Until(deadline)
			if remaining <= 0 {
				return chromedp.Void{}, fmt.Errorf("not true within %v: %s", timeout, expr)
			}
			_, err := chromedp.Poll[chromedp.Void](guarded, chromedp.WithPollingTimeout(remaining),
				chromedp.WithPollingInterval(10*time.Millisecond))(ctx, tg)
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
	}
}

// waitFlash waits for a success message that contains text: the page an
// action redirected to.
func waitFlash(text string) chromedp.Action[chromedp.Void] {
	return waitJS(`document.querySelector(".flash-success") && document.querySelector(".flash-success").textContent.includes(`+strconv.Quote(text)+`)`, 5*time.Second)
}

// evaluate runs JavaScript and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// textOf reads the text of the first element matching the CSS selector,
// in one evaluation: a live refresh may replace the element at any time,
// so a query followed by a read could find it gone.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return evaluate[string](t, ctx, "document.querySelector("+strconv.Quote(sel)+").innerText")
}

// browserIdentify fills in the identity form, as someone does once.
func browserIdentify(t *testing.T, ctx context.Context, f *fixture, next string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("page %s:\n%s", evaluate[string](t, ctx, "location.href"), evaluate[string](t, ctx, "document.body.innerText"))
		}
	}()
	run(t, ctx, "identify",
		chromedp.Navigate(f.srv.URL+"/ui/identity?next="+next),
		chromedp.SendKeys(chromedp.CSS("#identity-name"), "Dana Deployer"),
		chromedp.SendKeys(chromedp.CSS("#identity-email"), "dana@example.com"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		waitFlash("Thanks, Dana Deployer"),
	)
}

func TestBrowserOverviewShowsSeededData(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	run(t, ctx, "open the overview", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#grid")))
	row := textOf(t, ctx, `#grid tbody tr:first-child`)
	for _, want := range []string{"cart", "shop", "1 (2.0.0)", "team lock"} {
		if !strings.Contains(row, want) {
			t.Errorf("the cart row %q does not show %q", row, want)
		}
	}
	head := textOf(t, ctx, "#grid thead")
	for _, want := range []string{"prod", "development", "staging", "de-prod", "jp-prod", "1 env lock"} {
		if !strings.Contains(head, want) {
			t.Errorf("the grid header %q does not show %q", head, want)
		}
	}
	// The lock message appears when the marker has the keyboard focus.
	run(t, ctx, "focus a lock marker", chromedp.Focus(chromedp.CSS(`#grid tbody tr:nth-child(2) .lk-app`)))
	if !evaluate[bool](t, ctx, `(() => { const r = document.activeElement.querySelector(".tip").getBoundingClientRect(); return r.width > 100 && r.height > 10 })()`) {
		t.Error("the lock message does not show on focus")
	}
}

func TestBrowserDeployWithLockShowsBlockerAndDeploysAnyway(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	browserIdentify(t, ctx, f, "/apps/checkout")
	run(t, ctx, "deploy 1.2.0 to staging",
		chromedp.SetValue(chromedp.CSS("#deploy-3-env"), "staging"),
		chromedp.Click(chromedp.CSS(`#release-3 button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#blocked")))
	blocked := textOf(t, ctx, "#blocked")
	for _, want := range []string{"is blocked", "application lock", "db-migration", "Bob Builder", "Migrating the orders table"} {
		if !strings.Contains(blocked, want) {
			t.Errorf("the blocked panel %q does not say %q", blocked, want)
		}
	}
	if got := f.state("checkout", "staging"); got != "2/-" {
		t.Fatalf("the blocked deploy changed staging: %s", got)
	}
	run(t, ctx, "deploy anyway",
		chromedp.Click(chromedp.CSS("#deploy-anyway")),
		waitFlash("Deploy checkout 3 (1.2.0) to staging, overriding application lock"))
	if got := f.state("checkout", "staging"); got != "3/-" {
		t.Errorf("after deploy anyway staging runs %s, want 3/-", got)
	}
	if ev := lastEvent(t, f); ev.Actor.Name != "Dana Deployer" {
		t.Errorf("recorded actor %v, want Dana Deployer", ev.Actor)
	}
}

func TestBrowserCreateAndDeleteLock(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	browserIdentify(t, ctx, f, "/envs/staging")
	run(t, ctx, "create a lock",
		chromedp.Click(chromedp.CSS("#lock > summary")),
		chromedp.SendKeys(chromedp.CSS("#lock-message"), "Load test"),
		chromedp.SendKeys(chromedp.CSS("#lock-id"), "load-test"),
		chromedp.SendKeys(chromedp.CSS("#lock-expires"), "2h"),
		chromedp.Click(chromedp.CSS("#lock button.primary")),
		waitFlash("Lock staging (load-test): Load test"))
	if locks := textOf(t, ctx, "#locks + table, #live table.list"); !strings.Contains(locks, "load-test") {
		t.Errorf("the locks table %q does not list load-test", locks)
	}
	run(t, ctx, "delete it",
		chromedp.Click(chromedp.CSS(`button[aria-label="Delete environment lock load-test in staging"]`)),
		waitFlash("Unlock staging (load-test)"))
	if strings.Contains(textOf(t, ctx, "#live"), "Load test") {
		t.Error("the deleted lock is still listed")
	}
}

func TestBrowserReleaseTrainAfterPrognosis(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	browserIdentify(t, ctx, f, "/envs/de-prod")
	prognosis := textOf(t, ctx, "#prognosis")
	for _, want := range []string{"checkout", "deploy", "2 (1.1.0)", "cart", "queue", `team lock "audit"`, "search"} {
		if !strings.Contains(prognosis, want) {
			t.Errorf("the prognosis %q does not show %q", prognosis, want)
		}
	}
	if summary := textOf(t, ctx, "#prognosis-summary"); !strings.Contains(summary, "2 to deploy, 1 to queue, 0 to skip") {
		t.Errorf("summary %q", summary)
	}
	run(t, ctx, "run the train",
		chromedp.Click(chromedp.CSS("#run-train")),
		waitFlash("Release train to de-prod from staging: 2 deployed, 1 queued, 0 skipped"))
	if got := f.state("cart", "de-prod"); got != "-/1" {
		t.Errorf("cart in de-prod: %s, want queued 1", got)
	}
}

func TestBrowserReleaseAppearsLive(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	run(t, ctx, "open the overview",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#grid")),
		// The page is connected once the stream has told it the current id.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`)(ctx, tg)
			return err
		}))
	start := time.Now()
	f.release("checkout", 4, "1.3.0", "payments", "", "Live")
	run(t, ctx, "wait for 1.3.0",
		waitJS(`window.notReloaded === true && document.querySelector("#grid tbody tr:nth-child(2) td").textContent.includes("1.3.0")`, time.Second))
	t.Logf("the release appeared in the grid %v after it was committed", time.Since(start).Round(time.Millisecond))
}

func TestBrowserFilterAndSearchChangeURLAndGrid(t *testing.T) {
	f := newFixture(t).seed()
	ctx := tab(t)
	run(t, ctx, "filter by team",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#grid")),
		chromedp.SetValue(chromedp.CSS("#filter-team"), "shop"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](`document.getElementById("filter-team").dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, tg)
			return err
		}),
		waitJS(`document.querySelectorAll("#grid tbody tr").length === 1`, 5*time.Second))
	if loc := evaluate[string](t, ctx, "location.href"); !strings.HasSuffix(loc, "/?team=shop") {
		t.Errorf("URL %q, want ?team=shop", loc)
	}
	if row := textOf(t, ctx, "#grid tbody"); !strings.Contains(row, "cart") {
		t.Errorf("the shop filter shows %q", row)
	}
	run(t, ctx, "search",
		chromedp.SetValue(chromedp.CSS("#filter-team"), ""),
		chromedp.SendKeys(chromedp.CSS("#filter-q"), "sea"),
		waitJS(`location.search === "?q=sea" && document.querySelectorAll("#grid tbody tr").length === 1`, 5*time.Second))
	if row := textOf(t, ctx, "#grid tbody"); !strings.Contains(row, "search") {
		t.Errorf("the search shows %q", row)
	}
	// The URL is shareable: opened anew, it shows the same view.
	run(t, ctx, "open the URL", chromedp.Navigate(f.srv.URL+"/?q=sea"), chromedp.WaitVisible(chromedp.CSS("#grid")))
	if n := textOf(t, ctx, "#overview-count"); !strings.Contains(n, "Showing 1 of 3") {
		t.Errorf("count %q", n)
	}
}

// TestBrowserLargeOverviewTimeToUsable measures, in Chromium, the time
// from navigation to a usable overview of 1,000 applications in 10
// environments (the first rows parsed and laid out, the script ready), and
// the page's weight; with RAILYARD_OVERVIEW_SCALE=1 also of 6,000
// applications in 50 environments (storetest.SeedOverview, BENCHMARKS.md
// "Overview at scale"). It reports rather than asserts tightly: machines
// differ. Then, at 1,000 rows, it scrolls the grid to its end and checks
// that the page loads every remaining row, in order, as it goes.
func TestBrowserLargeOverviewTimeToUsable(t *testing.T) {
	if testing.Short() {
		t.Skip("large seed")
	}
	sizes := [][2]int{{1000, 10}}
	if os.Getenv("RAILYARD_OVERVIEW_SCALE") == "1" {
		sizes = append(sizes, [2]int{6000, 50})
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			f := newFixture(t)
			if size[0] == 1000 {
				f.seedLarge(size[0], size[1])
			} else if err := storetest.SeedOverview(context.Background(), f.db, size[0], size[1], t0); err != nil {
				t.Fatal(err)
			}
			measureOverview(t, f, size[0], size[1])
		})
	}
}

func measureOverview(t *testing.T, f *fixture, apps, envs int) {
	start := time.Now()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	t.Logf("overview %dx%d, first render after start (reads everything): %v, %d KiB",
		apps, envs, time.Since(start).Round(time.Millisecond), rec.Body.Len()/1024)
	ctx := tab(t)
	run(t, ctx, "warm up", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#grid")))
	var times []float64
	for range 5 {
		run(t, ctx, "open the overview", chromedp.Navigate(f.srv.URL+"/"), waitJS(`document.readyState === "complete"`, 10*time.Second))
		times = append(times, evaluate[float64](t, ctx, `(() => { const n = performance.getEntriesByType("navigation")[0]; return n.domContentLoadedEventEnd - n.startTime })()`))
	}
	slices.Sort(times)
	best := times[len(times)/2]
	t.Logf("breakdown: %v", evaluate[map[string]float64](t, ctx, `(() => { const n = performance.getEntriesByType("navigation")[0];
		return {requestStart: n.requestStart, responseStart: n.responseStart, responseEnd: n.responseEnd, domInteractive: n.domInteractive, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
			fcp: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime} })()`))
	weight := evaluate[map[string]float64](t, ctx, `(() => { const n = performance.getEntriesByType("navigation")[0];
		return {transfer: n.transferSize, encoded: n.encodedBodySize, decoded: n.decodedBodySize, rows: document.querySelectorAll("#grid tbody tr:not(.more)").length} })()`)
	t.Logf("overview %dx%d in Chromium: usable (DOMContentLoaded: first rows parsed, script run) after %.0f ms (median of 5; all: %.0f); HTML %.0f KiB transferred, %.0f KiB decoded; %v rows",
		apps, envs, best, times, weight["transfer"]/1024, weight["decoded"]/1024, weight["rows"])
	if weight["rows"] < 100 || weight["rows"] > 100+500 {
		t.Errorf("%v rows at first, want the first 100 and at most one chunk of 500 more", weight["rows"])
	}
	if best > 5000 {
		t.Errorf("the overview took %.0f ms to be usable; the goal is under 1 s", best)
	}
	// Scrolling to the end loads every row, each once, in order: checked
	// at 1,000 rows; at 6,000 × 50 the whole grid is 300,000 cells, which
	// Chromium takes a minute to take in on a loaded 2-core machine.
	if apps > 1000 {
		return
	}
	scrolled := time.Now()
	all := fmt.Sprintf(`(() => { const w = document.querySelector(".grid-wrap"); w.scrollTop = w.scrollHeight;
		return document.querySelectorAll("#grid tbody tr:not(.more)").length === %d && !document.querySelector("#grid tr.more") })()`, apps)
	run(t, ctx, "scroll to the end", waitJS(all, 60*time.Second))
	t.Logf("every row loaded by scrolling after %v", time.Since(scrolled).Round(time.Millisecond))
	names := evaluate[[]string](t, ctx, `Array.from(document.querySelectorAll("#grid tbody th a"), a => a.textContent)`)
	if len(names) != apps || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != apps {
		t.Errorf("after scrolling the grid has %d rows (sorted: %v), want %d distinct in order", len(names), slices.IsSorted(names), apps)
	}
}

// TestBrowserCSPViolationsAreCaught checks the watch that every browser
// test relies on: a page that breaks the policy is reported, both by the
// browser's log and by the page's own events.
func TestBrowserCSPViolationsAreCaught(t *testing.T) {
	f := newFixture(t).seed()
	ctx, csp := tabWatchingCSP(t)
	run(t, ctx, "open the overview", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#grid")))
	if v := csp.violations(ctx); len(v) != 0 {
		t.Fatalf("the overview violates the policy: %v", v)
	}
	// An inline style and an inline script, as an injection would add.
	run(t, ctx, "inject", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`(() => {
			document.body.setAttribute("style", "color: red");
			const s = document.createElement("script"); s.textContent = "window.injected = true"; document.body.append(s);
		})()`)(ctx, tg)
		return err
	}), waitJS(`JSON.parse(sessionStorage.getItem("csp-violations") || "[]").length >= 2`, 5*time.Second))
	if evaluate[bool](t, ctx, `window.injected === true`) {
		t.Error("the injected inline script ran")
	}
	v := csp.violations(ctx)
	var style, script bool
	for _, s := range v {
		style = style || strings.Contains(s, "style-src")
		script = script || strings.Contains(s, "script-src")
	}
	if !style || !script {
		t.Errorf("violations %q, want the inline style and the inline script", v)
	}
	t.Logf("caught: %q", v)
}
